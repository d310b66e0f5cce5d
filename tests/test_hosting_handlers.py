"""gridanim.hosting.handlers' one error decorator, and the Animate view's value translations (no server)."""

from __future__ import annotations

import pytest

gr = pytest.importorskip("gradio")

from gridanim.errors import InputError, LimitError, MissingKeyError  # noqa: E402
from gridanim.hosting import animate_view, history  # noqa: E402
from gridanim.hosting.handlers import gr_errors  # noqa: E402


@pytest.mark.parametrize(
    "error, title",
    [
        (InputError("type a number"), "Check the settings"),
        (LimitError("come back tomorrow"), "Free limit reached"),
        (MissingKeyError("no key"), "OpenAI key needed"),
    ],
)
def test_package_errors_become_titled_toasts_in_plain_and_streaming_handlers(error, title):
    @gr_errors
    def plain(x):
        raise error

    @gr_errors
    def stream(x):
        yield x
        raise error

    with pytest.raises(gr.Error) as caught:
        plain(1)
    assert caught.value.title == title
    gen = stream(1)
    assert next(gen) == 1
    with pytest.raises(gr.Error) as caught:
        next(gen)
    assert caught.value.title == title
    if not isinstance(error, MissingKeyError):
        assert caught.value.message == str(error)


def test_other_exceptions_and_signatures_pass_through():
    @gr_errors
    def handler(rid, frames="", request: gr.Request = None):
        raise KeyError(rid)

    with pytest.raises(KeyError):
        handler("x")
    import inspect

    assert list(inspect.signature(handler).parameters) == ["rid", "frames", "request"]  # the API's parameter names


@pytest.mark.parametrize("value, expected", [("Auto", None), ("", None), (None, None), ("4×", 4), ("2x", 2)])
def test_scale_choices(value, expected):
    assert animate_view.scale(value) == expected


def test_animate_form_values_become_options():
    opts = animate_view.animate_options(
        "auto", "4", 2.0, 12.0, "custom", " 1-3,2 ", "", True, 1.0, "", 10, 0, False, "3×", "", " 1:300 "
    )
    assert (opts.rows, opts.cols, opts.inset, opts.fps) == (None, 4, 2, 12.0)
    assert opts.order == "1-3,2" and opts.stabilize and opts.smooth == 1 and opts.gif_quality == "high"
    assert opts.gif_max_bytes == 10 * 1024 and opts.max_size is None and opts.scale == 3 and opts.hold == "1:300"
    assert animate_view.animate_options(order="pingpong", custom_order="1,2").order == "pingpong"


def test_no_grid_is_a_message_not_a_crash():
    with pytest.raises(InputError, match="Upload a grid image first"):
        animate_view.run(None, animate_view.animate_options())
    assert animate_view.preview(None) == (None, "")


def test_timing_table_values_from_the_page_or_the_api():
    shown = [[1, 1, 125, "-"], [2, 2, 125, "-"], [3, 3, 125, "-"]]
    edited = [[1, 1, 125, "-"], [2, 2, "400", "-"], [3, 3, 125, "-"]]
    view = {"rows": shown}
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(edited, columns=["place", "frame", "shows (ms)", "in-betweens (ms)"])  # what the page sends
    for table in (edited, {"data": edited, "headers": []}, frame):
        assert animate_view.table_rows(table) == edited
        assert animate_view.holds_after_edit(table, view, "") == "2:400"
    assert animate_view.holds_after_edit(edited, view, "3:250") in ("2:400,3:250", "3:250,2:400")
    assert animate_view.motion_outputs(None) == ("", None, None)


def test_gallery_pick_out_of_range_is_no_pick():
    assert history.picked(["a", "b"], 1) == "b"
    assert history.picked(["a"], 3) is None and history.picked([], 0) is None and history.picked(["a"], None) is None
    with pytest.raises(InputError, match="Pick a generation"):
        history.open_values(None, None)


def test_option_errors_name_the_apps_label_not_the_cli_flag():
    from gridanim.options import AnimateOptions

    @gr_errors
    def animate(smooth):
        AnimateOptions(smooth=smooth).validate()

    with pytest.raises(gr.Error) as caught:
        animate(9)
    assert caught.value.message == "Smoothing must be between 0 and 8, got 9"
