"""deploy/nginx.conf.example works on any host and port: rendered for loopback (only its ports,
paths and gate list change) and run by Debian's nginx in front of a production gate (SQLite, the
single-machine shape) on an ephemeral port, never 443."""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fixtures.deploy.nginx import EXAMPLE, ExampleChanged, Loopback, check_conf, render_example, write_conf
from fixtures.deploy.sample import code, marker, metered_site
from fixtures.deploy.stack import Deployment, deployment

PASSWORD = "a long enough passphrase"
WHERE = Loopback(18080, 18443, Path("/tmp/site"), Path("/tmp/tls/c.pem"), Path("/tmp/tls/k.pem"),
                 ("127.0.0.1:18001", "127.0.0.1:18002", "127.0.0.1:18003", "127.0.0.1:18004"))


def test_rendering_changes_only_ports_paths_and_gates() -> None:
    example = EXAMPLE.read_text(encoding="utf-8").splitlines()
    rendered = render_example(WHERE).splitlines()
    removed = [line[1:].strip() for line in difflib.unified_diff(example, rendered, lineterm="", n=0)
               if line.startswith("-") and not line.startswith("---")]
    added = [line[1:].strip() for line in difflib.unified_diff(example, rendered, lineterm="", n=0)
             if line.startswith("+") and not line.startswith("+++")]
    substituted = re.compile(r"(listen|server|ssl_certificate|ssl_certificate_key|root) ")
    assert all(substituted.match(line) for line in removed)
    assert sorted(added) == sorted([
        "listen 127.0.0.1:18080;", "listen 127.0.0.1:18443 ssl http2;",
        "ssl_certificate     /tmp/tls/c.pem;", "ssl_certificate_key /tmp/tls/k.pem;", "root /tmp/site;",
        *(f"server {gate} max_fails=3 fail_timeout=10s;" for gate in WHERE.gates),
    ])


def test_rendering_refuses_an_example_it_cannot_place() -> None:
    changed = EXAMPLE.read_text(encoding="utf-8").replace("listen 80;", "listen 8080;")
    with pytest.raises(ExampleChanged, match="plain listen"):
        render_example(WHERE, changed)


def test_nginx_accepts_the_rendered_example(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    from fixtures.deploy.stack import make_tls

    tls = make_tls(tmp_path / "tls")
    where = Loopback(18080, 18443, tmp_path / "site", tls.cert, tls.key, ("127.0.0.1:18001",))
    conf = write_conf(tmp_path / "nginx", {"coderef.conf": render_example(where)})
    check_conf(tmp_path / "nginx", conf)  # raises with nginx's message


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    work = tmp_path_factory.mktemp("deploy-nginx")
    root = metered_site(work / "proj", 8)
    with deployment(root, work, gates=1) as running:
        yield running


def origin_post(c: httpx.Client, path: str, origin: str, headers: dict[str, str] | None = None,
                **kwargs: object) -> httpx.Response:
    return c.post(path, headers={"Origin": origin, **(headers or {})}, **kwargs)  # type: ignore[arg-type]


@pytest.mark.slow
def test_plain_http_redirects_to_https(dep: Deployment) -> None:
    with httpx.Client(base_url=dep.http_base) as c:
        r = c.get(f"/hcpcs/{code(0)}/?from=mail")
    assert r.status_code == 301
    assert r.headers["location"] == f"https://127.0.0.1/hcpcs/{code(0)}/?from=mail"


@pytest.mark.slow
def test_static_files_carry_the_builds_headers(dep: Deployment) -> None:
    with dep.client(headers={"Accept-Encoding": "gzip"}) as c:
        page = c.get(f"/hcpcs/{code(0)}/")
        assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
        assert page.headers["cache-control"] == "public, max-age=300, must-revalidate"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert "set-cookie" not in page.headers and marker(code(0)) not in page.text
        css = re.search(r'href="(/assets/[^"]+\.css)"', page.text)
        assert css is not None
        asset = c.get(css.group(1))
        assert asset.status_code == 200
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        lookup = c.get("/lookup/index.json")
        assert lookup.status_code == 200 and lookup.headers["cache-control"] == "public, max-age=3600"
        bare = c.get(f"/hcpcs/{code(0)}")
        assert bare.status_code == 301 and bare.headers["location"] == f"/hcpcs/{code(0)}/"
        missing = c.get("/no/such/page/")
        assert missing.status_code == 404 and "<html" in missing.text.lower()
        assert missing.headers["cache-control"] == "public, max-age=300, must-revalidate"
        assert c.get("/_headers").status_code == 404


@pytest.mark.slow
def test_same_origin_posts_pass_on_a_non_default_port(dep: Deployment) -> None:
    port = dep.base.rsplit(":", 1)[1]
    assert port != "443"
    with dep.client("127.0.0.41") as c:
        assert origin_post(c, f"/gate/unlock/hcpcs/{code(0)}", dep.base).status_code == 200
        # What `proxy_set_header Host $host` made of it: the gate saw no port and refused its own site.
        assert origin_post(c, f"/gate/unlock/hcpcs/{code(0)}", "https://127.0.0.1").status_code == 403
        assert origin_post(c, f"/gate/unlock/hcpcs/{code(0)}", f"http://127.0.0.1:{port}").status_code == 403
        assert origin_post(c, f"/gate/unlock/hcpcs/{code(0)}", "https://evil.example").status_code == 403
        login = origin_post(c, "/gate/login", dep.base,
                            json={"email": "nobody@example.org", "password": PASSWORD})
        assert login.status_code == 401  # reached the gate and was judged there, not refused as cross-site


@pytest.mark.slow
def test_the_gate_sees_https_and_sets_host_cookies(dep: Deployment) -> None:
    with dep.client("127.0.0.42") as c:
        r = origin_post(c, "/gate/register", dep.base,
                        json={"email": "tls@example.org", "password": PASSWORD})
    assert r.status_code == 201
    cookies = r.headers.get_list("set-cookie")
    assert cookies and all(v.startswith("__Host-") and "Secure" in v and "HttpOnly" in v for v in cookies)


@pytest.mark.slow
def test_a_client_cannot_choose_its_address(dep: Deployment) -> None:
    """The guest IP cap (20 per period) counts nginx's peer address, whatever X-Forwarded-For says."""
    for i in range(20):
        with dep.client("127.0.0.43", headers={"X-Forwarded-For": f"10.9.{i}.{i + 1}"}) as fresh_guest:
            assert origin_post(fresh_guest, f"/gate/unlock/hcpcs/{code(1)}", dep.base).status_code == 200
    with dep.client("127.0.0.43", headers={"X-Forwarded-For": "10.200.0.1"}) as one_more:
        capped = origin_post(one_more, f"/gate/unlock/hcpcs/{code(1)}", dep.base)
    assert capped.status_code == 402  # had the gate believed the header, this were a 21st address
    with dep.client("127.0.0.44") as elsewhere:
        assert origin_post(elsewhere, f"/gate/unlock/hcpcs/{code(1)}", dep.base).status_code == 200


@pytest.mark.slow
def test_nginx_stops_large_bodies_with_the_gates_json(dep: Deployment) -> None:
    json_type = {"Content-Type": "application/json"}
    with dep.client("127.0.0.45") as c:
        r = origin_post(c, "/gate/login", dep.base, content="x" * (17 * 1024), headers=json_type)
        job = origin_post(c, "/gate/jobs/post", dep.base, content="x" * (20 * 1024), headers=json_type)
        huge_job = origin_post(c, "/gate/jobs/post", dep.base, content="x" * (65 * 1024), headers=json_type)
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    assert r.headers["cache-control"] == "no-store, private" and r.headers["vary"] == "Cookie"
    assert huge_job.status_code == 413 and huge_job.json()["error"] == "payload_too_large"
    log = dep.nginx.log_lines()
    # nginx answered those two itself; a job post of 20 KiB (the gate takes 64 KiB there) went on.
    assert any(line.startswith("413 POST /gate/login - ") for line in log)
    assert any(line.startswith("413 POST /gate/jobs/post - ") for line in log)
    assert job.status_code != 413
    assert any(line.startswith(f"{job.status_code} POST /gate/jobs/post 127.0.0.1:") for line in log)


@pytest.mark.slow
def test_a_gate_outage_keeps_pages_and_answers_503_json(dep: Deployment) -> None:
    gate = dep.gates[0]
    gate.stop()
    try:
        with dep.client("127.0.0.46") as c:
            assert c.get(f"/hcpcs/{code(2)}/").status_code == 200
            for r in (origin_post(c, f"/gate/unlock/hcpcs/{code(2)}", dep.base), c.get("/gate/session")):
                assert r.status_code == 503 and r.json()["error"] == "unavailable"
                assert r.headers["retry-after"] == "5"
                assert r.headers["cache-control"] == "no-store, private" and r.headers["vary"] == "Cookie"
    finally:
        gate.start()
    with dep.client("127.0.0.46") as c:
        assert c.get("/gate/session").status_code == 200

