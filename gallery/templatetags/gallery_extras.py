from django import template

register = template.Library()


@register.filter
def exposure(photo) -> str:
    """ "1/250 s · f/2.8 · ISO 100 · 35 mm" from whatever the camera recorded."""
    parts = []
    if photo.exposure_time:
        parts.append(photo.exposure_time if photo.exposure_time.endswith("s") else f"{photo.exposure_time} s")
    if photo.aperture:
        parts.append(f"f/{photo.aperture:g}")
    if photo.iso:
        parts.append(f"ISO {photo.iso}")
    if photo.focal_length:
        parts.append(f"{photo.focal_length:g} mm")
    return " · ".join(parts)
