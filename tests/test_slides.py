"""Orientation-aware pairing, pure: landscapes stack on portrait frames, portraits stand side by side on landscape."""

from gallery.frames.slides import SIDE_BY_SIDE, SINGLE, STACKED, Shape, Slide, pair

LANDSCAPE = (1800, 1200)  # 1.5
PORTRAIT = (1200, 1800)
SQUARE_ISH = (1050, 1000)  # 1.05: neither


def shapes(*sizes):
    return [Shape(n, w, h) for n, (w, h) in enumerate(sizes, start=1)]


def test_portrait_frame_stacks_two_landscapes():
    slides = pair(shapes(LANDSCAPE, LANDSCAPE), portrait_frame=True)
    assert slides == [Slide((1, 2), STACKED)]


def test_landscape_frame_puts_two_portraits_side_by_side():
    slides = pair(shapes(PORTRAIT, PORTRAIT), portrait_frame=False)
    assert slides == [Slide((1, 2), SIDE_BY_SIDE)]


def test_photos_that_suit_the_frame_show_alone_in_order():
    assert pair(shapes(LANDSCAPE, LANDSCAPE, LANDSCAPE), portrait_frame=False) == [
        Slide((1,), SINGLE),
        Slide((2,), SINGLE),
        Slide((3,), SINGLE),
    ]
    assert pair(shapes(PORTRAIT, PORTRAIT), portrait_frame=True) == [Slide((1,), SINGLE), Slide((2,), SINGLE)]


def test_a_mismatched_photo_waits_for_the_next_one_and_keeps_its_place():
    slides = pair(shapes(PORTRAIT, LANDSCAPE, LANDSCAPE, PORTRAIT, LANDSCAPE), portrait_frame=True)
    assert slides == [Slide((1,), SINGLE), Slide((2, 3), STACKED), Slide((4,), SINGLE), Slide((5,), SINGLE)]
    slides = pair(shapes(PORTRAIT, LANDSCAPE, PORTRAIT, PORTRAIT), portrait_frame=False)
    assert slides == [Slide((1, 3), SIDE_BY_SIDE), Slide((2,), SINGLE), Slide((4,), SINGLE)]


def test_nearly_square_photos_are_never_paired():
    assert pair(shapes(SQUARE_ISH, SQUARE_ISH), portrait_frame=True) == [Slide((1,), SINGLE), Slide((2,), SINGLE)]
    assert pair(shapes((1100, 1000), (1000, 1100)), portrait_frame=False) == [Slide((1,), SINGLE), Slide((2,), SINGLE)]
    assert Shape(1, 1111, 1000).is_landscape and not Shape(1, 1100, 1000).is_landscape


def test_one_playlist_pairs_differently_per_frame_orientation():
    playlist = shapes(LANDSCAPE, PORTRAIT, LANDSCAPE, PORTRAIT)
    assert pair(playlist, portrait_frame=True) == [Slide((1, 3), STACKED), Slide((2,), SINGLE), Slide((4,), SINGLE)]
    assert pair(playlist, portrait_frame=False) == [
        Slide((1,), SINGLE),
        Slide((2, 4), SIDE_BY_SIDE),
        Slide((3,), SINGLE),
    ]


def test_upright_dimensions_decide_so_a_rotated_photo_counts_as_what_it_shows():
    # Photo.width/height are upright (after EXIF orientation and the user's rotation): the caller passes those.
    assert pair([Shape(1, 1200, 1800), Shape(2, 1200, 1800)], portrait_frame=False)[0].layout == SIDE_BY_SIDE


def test_empty_playlist_has_no_slides():
    assert pair([], portrait_frame=True) == []
