"""A request's body is read only after its caller is known and its size is within the route's limit."""

from __future__ import annotations

import asyncio

from tests.server.helpers import sha

HUGE = 400 * 1024**2


async def _headers_only(port: int, method: str, path: str, headers: dict[str, str]) -> bytes:
    """Send the request line and headers of a huge body but none of the body; return the response head."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    writer.write("\r\n".join(lines).encode())
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(4096), timeout=10)
    finally:
        writer.close()


async def test_anonymous_bodies_are_refused_from_their_headers(aml, jp_http_port, jp_base_url):
    await aml("POST", "workspaces", {"name": "w"})
    base = jp_base_url.rstrip("/") + "/aml/api/v1"
    for method, path, ctype in [
        ("POST", f"{base}/workspaces", "application/json"),
        ("PUT", f"{base}/workspaces/w/blobs/{sha(b'x')}", "application/octet-stream"),
        ("POST", f"{base}/workspaces/w/runs/r/journal", "application/json"),
    ]:
        head = await _headers_only(jp_http_port, method, path,
                                   {"Content-Length": str(HUGE), "Content-Type": ctype})
        assert head.startswith(b"HTTP/1.1 403"), (path, head[:200])


async def test_an_oversized_declared_body_is_refused_before_it_is_sent(aml, jp_http_port, jp_base_url,
                                                                        jp_serverapp):
    token = jp_serverapp.identity_provider.token
    base = jp_base_url.rstrip("/") + "/aml/api/v1"
    head = await _headers_only(jp_http_port, "POST", f"{base}/workspaces",
                               {"Content-Length": str(HUGE), "Authorization": f"token {token}",
                                "Content-Type": "application/json"})
    assert head.startswith(b"HTTP/1.1 413"), head[:300]
    assert b"PayloadTooLarge" in head


async def test_large_uploads_at_once_are_capped_with_retry_after(aml, jp_http_port, jp_base_url, jp_serverapp):
    service = jp_serverapp.web_app.settings["aml_app"].service
    service.settings.max_concurrent_large_uploads = 1
    await aml("POST", "workspaces", {"name": "w"})
    token = jp_serverapp.identity_provider.token
    base = jp_base_url.rstrip("/") + "/aml/api/v1"
    headers = {"Content-Length": str(100 * 1024**2), "Authorization": f"token {token}",
               "Content-Type": "application/octet-stream"}
    _reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)  # the first: left in flight
    lines = [f"PUT {base}/workspaces/w/blobs/{sha(b'a')} HTTP/1.1", "Host: 127.0.0.1",
             *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    writer.write("\r\n".join(lines).encode() + b"x" * 1024)
    await writer.drain()
    await asyncio.sleep(0.5)
    try:
        head = await _headers_only(jp_http_port, "PUT", f"{base}/workspaces/w/blobs/{sha(b'b')}", headers)
        assert head.startswith(b"HTTP/1.1 503"), head[:300]
        assert b"Retry-After: 5" in head
    finally:
        writer.close()
    await asyncio.sleep(0.5)  # the first upload's connection closed: its slot is free again
    data = b"small"
    status, _ = await aml("PUT", f"workspaces/w/blobs/{sha(data)}", raw=data)
    assert status == 201


async def test_a_connection_refused_from_its_headers_says_it_closes(aml, jp_http_port, jp_base_url, jp_serverapp):
    """Tornado drops a streaming route's connection when it answers before reading the body; a keep-alive
    client (JupyterHub's proxy) must be told, or it sends the next request into a dead socket."""
    import http.client

    path = jp_base_url.rstrip("/") + "/aml/api/v1/workspaces"
    token = jp_serverapp.identity_provider.token

    def two_requests() -> tuple[int, str | None, int]:
        conn = http.client.HTTPConnection("127.0.0.1", jp_http_port, timeout=10)
        try:
            conn.request("GET", path)
            refused = conn.getresponse()
            refused.read()
            conn.request("GET", path, headers={"Authorization": f"token {token}"})  # reconnects if told to
            answer = conn.getresponse()
            answer.read()
            return refused.status, refused.getheader("Connection"), answer.status
        finally:
            conn.close()

    # the server shares this test's event loop: the blocking client runs in a thread
    assert await asyncio.to_thread(two_requests) == (403, "close", 200)
