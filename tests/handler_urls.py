"""Views for tests/test_handlers.py, each noting what it did and on which thread (`seen`)."""

import asyncio
import threading

from asgiref.sync import sync_to_async
from django.db import connection
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import include, path

seen: list[tuple[str, str]] = []  # (what happened, the thread's name)
view_started = threading.Event()
go_on = threading.Event()  # a waiting view or stream goes on when the test sets it


def note(what: str) -> None:
    seen.append((what, threading.current_thread().name))


def database_connection() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    note("query")
    return {"connection": id(connection.connection)}


def sync_query(request):
    return JsonResponse(database_connection())


async def async_query(request):
    return JsonResponse(await sync_to_async(database_connection)())


def slow(request):
    view_started.set()
    go_on.wait(10)
    note("view done")
    return HttpResponse("late")


def boom(request):
    raise ValueError("the view broke")


def parts():
    try:
        for number in range(3):
            if number == 1:
                go_on.wait(10)
            note(f"part {number}")
            yield f"part {number}\n".encode()
    finally:
        note("iterator closed")


async def async_parts():
    try:
        for number in range(3):
            while number == 1 and not go_on.is_set():
                await asyncio.sleep(0.01)
            note(f"part {number}")
            yield f"part {number}\n".encode()
    finally:
        note("iterator closed")


def sync_stream(request):
    return StreamingHttpResponse(parts())


def async_stream(request):
    return StreamingHttpResponse(async_parts())


urlpatterns = [
    path("test/sync-query", sync_query),
    path("test/async-query", async_query),
    path("test/slow", slow),
    path("test/boom", boom),
    path("api/test/boom", boom),
    path("test/sync-stream", sync_stream),
    path("test/async-stream", async_stream),
    path("", include("mcpshop_site.urls")),
]
handler500 = "mcpshop_site.api.server_error"
