"""How a sketch query is shown: the drawing as the models saw it and the GAN's image."""
from retrieval.core.presenters import png_data_url


def sketch_preview(result) -> dict:
    """A sketch query (``engine.sketch.search.SketchQueryResult``) as the sketch page shows it:
    the drawing as the models saw it, the GAN's image (None when no GAN is trained), the mode."""
    from retrieval.engine.sketch.search import SKETCH_MODES

    mode = SKETCH_MODES[result.mode]
    return {
        "sketch_view": png_data_url(result.view.image),
        "generated": png_data_url(result.generated) if result.generated is not None else None,
        "mode": mode.name, "mode_title": mode.title, "width": result.decoded.width,
        "height": result.decoded.height, "timings": result.timings_ms,
        "total_ms": round(sum(result.timings_ms.values()), 2),
    }
