"""The request being handled, for the few places Wagtail calls without one (workflow task actions)."""

from contextvars import ContextVar

_current = ContextVar("xiaoge_request", default=None)


def current_request():
    return _current.get()


class CurrentRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(request)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
