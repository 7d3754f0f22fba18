-- Mixed traffic for wrk (bench/mixed.py): each request is drawn from weighted kinds (pages, assets,
-- search files, session reads, unlocks, logins) and timed per kind.
--
-- Run with one connection per thread (-t N -c N): a thread's request() and response() then
-- alternate strictly, so the clock read in request() belongs to the response that follows.
-- wrk's own latency figures cover all kinds together; these are per kind.
--
-- With CODEREF_WRK_TIMED=0 (the static-file probe) there is no response() callback: wrk then
-- copies no headers or bodies into Lua, any thread count works, and only wrk's own totals count.
--
-- The data file (first script argument) has one "name value" line per entry: "weight KIND N",
-- "first_block N", and the request lists "page PATH", "asset PATH", "search PATH", "session
-- COOKIE", "review COOKIE<TAB>PATH", "first PATH", "first_member COOKIE", "login JSON"
-- (bench/wrkmix.py). Each thread writes one
-- line per response ("kind status microseconds bytes") to <second argument>/thread-<id>.txt,
-- unbuffered: wrk never closes a thread's Lua state, and its thread:get() cannot copy the nested
-- tables per-kind figures would need.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } coderef_timespec;
int clock_gettime(int clk_id, coderef_timespec *tp);
]]
local ts = ffi.new("coderef_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local TIMED = os.getenv("CODEREF_WRK_TIMED") ~= "0"
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

local data, kinds, cumulative, total
local pending_kind, pending_start
local first_base, first_k, out

local function load(path)
  local d = { page = {}, asset = {}, search = {}, session = {}, review = {}, first = {}, first_member = {},
              login = {}, weights = {} }
  for line in io.lines(path) do
    local name, value = line:match("^(%S+) (.*)$")
    if name == "weight" then
      local kind, n = value:match("^(%S+) (%d+)$")
      table.insert(d.weights, { kind, tonumber(n) })
    elseif name == "first_block" then
      d.first_block = tonumber(value)
    elseif name == "review" then
      local cookie, target = value:match("^([^\t]*)\t(.*)$")
      table.insert(d.review, { cookie, target })
    else
      table.insert(d[name], value)
    end
  end
  return d
end

function init(args)
  data = load(args[1])
  if TIMED then
    out = assert(io.open(args[2] .. "/thread-" .. id .. ".txt", "w"))
    out:setvbuf("no")
  end
  math.randomseed(1000 + id)
  kinds, cumulative, total = {}, {}, 0
  for _, pair in ipairs(data.weights) do
    total = total + pair[2]
    table.insert(kinds, pair[1])
    table.insert(cumulative, total)
  end
  -- Each thread walks its own block of the run's fresh codes: no two first views share a code.
  first_base, first_k = id * data.first_block, 0
end

local function pick(list)
  return list[math.random(#list)]
end

local function build(kind)
  local origin = { ["Accept-Encoding"] = "gzip" }
  if kind == "page" or kind == "asset" or kind == "search" then
    return wrk.format("GET", pick(data[kind]), origin)
  elseif kind == "session" then
    origin["Cookie"] = pick(data.session)
    return wrk.format("GET", "/gate/session", origin)
  elseif kind == "review" then
    local r = pick(data.review)
    origin["Cookie"] = r[1]
    return wrk.format("POST", r[2], origin)
  elseif kind == "first" then
    local path = data.first[((first_base + first_k % data.first_block) % #data.first) + 1]
    first_k = first_k + 1
    origin["Cookie"] = pick(data.first_member)
    return wrk.format("POST", path, origin)
  else -- login
    origin["Content-Type"] = "application/json"
    return wrk.format("POST", "/gate/login", origin, pick(data.login))
  end
end

function request()
  local r = math.random() * total
  local kind = kinds[#kinds]
  for i, edge in ipairs(cumulative) do
    if r < edge then
      kind = kinds[i]
      break
    end
  end
  pending_kind = kind
  pending_start = now_us()
  return build(kind)
end

if TIMED then
  function response(status, headers, body)
    local took = now_us() - pending_start
    local size = #body + 17 -- the status line
    for name, value in pairs(headers) do
      size = size + #name + #value + 4
    end
    out:write(pending_kind, " ", status, " ", string.format("%.1f", took), " ", size, "\n")
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('CODEREF-MIX {"seconds": %.3f, "requests": %d, "errors": %d, "status_errors": %d, '
    .. '"bytes": %d, "p50_us": %.1f, "p99_us": %.1f}\n',
    summary.duration / 1000000, summary.requests, e.connect + e.read + e.write + e.timeout, e.status,
    summary.bytes, latency:percentile(50), latency:percentile(99)))
end
