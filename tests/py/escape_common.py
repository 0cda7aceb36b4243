# Shared by the escape_*.py programs: expect an exception, then prove the
# runtime still works.
import _rawffi

cases = []


def expect(exc_type, fn, *args, contains=None, what=None):
    """fn(*args) raises exc_type (or a subclass) whose message contains `contains`."""
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - checked below
        assert isinstance(e, exc_type), "%s: expected %s, got %s: %s" % (
            what, exc_type.__name__, type(e).__name__, e)
        if contains is not None:
            assert contains in str(e), "%s: %r not in %r" % (what, contains, str(e))
        cases.append(what)
        return e
    raise AssertionError("%s: no exception, expected %s" % (what, exc_type.__name__))


def still_alive():
    """The host answers and native memory works after a refusal."""
    p = _rawffi.malloc(8)
    _rawffi.store(p, "q", 42)
    assert _rawffi.load(p, "q") == 42
    _rawffi.free(p)
