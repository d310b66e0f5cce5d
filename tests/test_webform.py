"""gridanim.hosting.webform: the Generate form's values become a request; models say whether to offer the GIF route."""

from __future__ import annotations

from gridanim.hosting.webform import file_path, form_request, offers_gif, qualities


def test_form_values_become_a_request():
    r = form_request(
        "a cat",
        "",
        3.0,
        4.0,
        "square",
        "gpt-image-2.6-flare",
        "low",
        8.0,
        2.0,
        {"path": "/tmp/me.png"},
        False,
        route="gif",
        gif_frames=6.0,
        transparent=None,
        stylise_first=True,
    )
    assert (r.rows, r.cols, r.fps, r.partial_images, r.gif_frames) == (3, 4, 8, 2, 6)
    assert r.images == ("/tmp/me.png",) and r.style is None and r.route == "gif" and r.stylise_first
    assert r.transparent is None  # the preset decides
    grid = form_request(
        "a cat", "ghibli", 3, 4, "square", None, None, 8, 0, None, False, gif_frames=6, transparent=False
    )
    assert grid.gif_frames is None and grid.route == "grid" and grid.transparent is False
    assert file_path(None) is None and file_path("/x.png") == "/x.png"


def test_only_models_listing_gif_offer_the_route():
    assert offers_gif("gpt-image-2.6-flare") and offers_gif("gpt-image-2.6-sunburst")
    assert not offers_gif("gpt-image-2") and not offers_gif("no-such-model")
    assert qualities("gpt-image-2")[-1] == "auto" and "max" not in qualities("gpt-image-2")
