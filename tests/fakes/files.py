"""A fake of the `Files` port: what was stored is kept in `world.table("files")` by key; a download
URL names the key, the file name and the type it would be served with."""

from __future__ import annotations

from urllib.parse import quote

from tests.fakes.world import World


class FakeFiles:
    def __init__(self, world: World) -> None:
        self._stored = world.table("files")  # key -> (content, mime type)

    def put(self, key: str, content: bytes, mime_type: str) -> None:
        self._stored[key] = (content, mime_type)

    def download_url(self, key: str, file_name: str, mime_type: str) -> str:
        if key not in self._stored:
            raise KeyError(key)
        return f"https://files.invalid/{quote(key)}?name={quote(file_name)}&type={quote(mime_type)}"

    def delete(self, key: str) -> None:
        self._stored.pop(key, None)
