-- Static reads for wrk (bench/mixed.py's "static" probe): pages, assets and search files drawn by
-- weight from the same data file as mixed.lua. No response() callback: wrk then neither copies
-- headers nor bodies into Lua, so the load generator costs least where the server is cheapest.

local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

local lists, kinds, cumulative, total

function init(args)
  lists, kinds, cumulative, total = { page = {}, asset = {}, search = {} }, {}, {}, 0
  for line in io.lines(args[1]) do
    local name, value = line:match("^(%S+) (.*)$")
    if name == "weight" then
      local kind, n = value:match("^(%S+) (%d+)$")
      if lists[kind] then
        total = total + tonumber(n)
        table.insert(kinds, kind)
        table.insert(cumulative, total)
      end
    elseif lists[name] then
      table.insert(lists[name], value)
    end
  end
  math.randomseed(1000 + id)
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
  local list = lists[kind]
  return wrk.format("GET", list[math.random(#list)], { ["Accept-Encoding"] = "gzip" })
end

function done(summary, latency, requests)
  io.write(string.format('CODEREF-STATIC {"seconds": %.3f, "requests": %d, "errors": %d, "bytes": %d, '
    .. '"p50_us": %.1f, "p99_us": %.1f}\n',
    summary.duration / 1000000, summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
      + summary.errors.status,
    summary.bytes, latency:percentile(50), latency:percentile(99)))
end
