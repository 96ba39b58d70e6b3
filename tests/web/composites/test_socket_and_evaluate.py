"""The composites websocket flow (a blend slider's messages re-rank live) and `evaluate composites`."""

import json

import pytest
from channels.db import database_sync_to_async
from django.core.management import CommandError, call_command

from tests.support.sockets import connect, receive_until_done

from .conftest import pick


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_moving_the_blend_slider_re_ranks_over_the_socket(stamps):
    ids = await database_sync_to_async(pick)(stamps, 2)
    socket = await connect()
    try:
        tops = []
        for alphas in ("0.9,0.1", "0.1,0.9"):
            await socket.send_json_to({"type": "composites", "combine": "blend", "sources": f"{ids[0]},{ids[1]}",
                                       "alphas": alphas, "k": 3})
            messages = await receive_until_done(socket)
            assert 'id="composites-results"' in messages[0] and 'id="composite-image"' in messages[0]
            cards = [m for m in messages if 'class="found-source' in m and 'hx-swap-oob="beforeend"' in m]
            assert len(cards) == 3 and "true-source" in cards[0]
            tops.append(cards[0].split('data-id="')[1].split('"')[0])
            assert "sources shown" not in messages[-1] or "true sources found: 2 of 2" in messages[-1]
        assert tops == [str(ids[0]), str(ids[1])]  # the heavier image comes first
        await socket.send_json_to({"type": "composites", "combine": "blend", "sources": "1"})
        error = await receive_until_done(socket)
        assert "Pick 2 or 3 gallery images" in error[-1]
    finally:
        await socket.disconnect()


def test_evaluate_composites_on_a_tiny_subset(latents, capsys):
    call_command("evaluate", "composites", "--json", "--count", "3", "--methods", "explain,pixel,descriptor,gan_ae,ae")
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "composites" and report["count"] == 3 and report["gallery_size"] == 18
    assert set(report["settings"]) == {f"{k}-{n}" for k in ("blend", "collage", "paste") for n in (2, 3)}
    for setting in report["settings"].values():
        for method in ("explain", "pixel", "descriptor"):
            r = setting["methods"][method]
            assert 0 <= r["recall@3"] <= r["recall@10"] <= 1 and r["nn_distance_normalised"] >= 0
    assert report["settings"]["blend-2"]["methods"]["explain"]["recall@10"] == 1.0
    assert "explain_above_every_method" in report["targets"]
    assert report["chance_recall@10"] == round(10 / 18, 4)
    paired = report["settings"]["paste-3"]["gan_ae_vs_ae"]
    assert paired["verdict"] in ("better", "worse", "tie", "tie at chance") and set(paired["above_chance"]) == {"gan_ae", "ae"}
    verdicts = report["targets"]["gan_ae_better_than_ae"]["paired_recall@10_by_setting"]
    assert set(verdicts) == set(report["settings"])


def test_evaluate_composites_held_out_reads_foreign_composites_as_uploads(stamps, capsys):
    """The held-out protocol makes its composites from the gallery's stored files (unlike the
    builders) and reads each through the upload path; the same measures come back."""
    call_command("evaluate", "composites", "--json", "--count", "2", "--methods", "explain,pixel",
                 "--protocol", "held-out")
    report = json.loads(capsys.readouterr().out)
    assert report["protocol"] == "held-out" and "upload path" in report["composites"]
    assert set(report["settings"]) == {f"{k}-{n}" for k in ("blend", "collage", "paste") for n in (2, 3)}
    for setting in report["settings"].values():
        r = setting["methods"]["explain"]
        assert 0 <= r["recall@3"] <= r["recall@10"] <= 1
    assert report["settings"]["blend-2"]["methods"]["explain"]["recall@10"] == 1.0
    assert report["settings"]["collage-2"]["methods"]["explain"]["recall@10"] == 1.0


def test_evaluate_composites_held_out_wide_searches_pastes_at_their_own_aspect(stamps, capsys):
    """The wide protocol pastes the held-out stamps on a 16:10 canvas and searches them at that
    aspect; it makes pastes only, and says so when asked for more."""
    call_command("evaluate", "composites", "--json", "--count", "3", "--methods", "explain,pixel", "--kinds", "paste",
                 "--protocol", "held-out-wide")
    report = json.loads(capsys.readouterr().out)
    assert report["protocol"] == "held-out-wide" and set(report["settings"]) == {"paste-2", "paste-3"}
    assert report["settings"]["paste-2"]["methods"]["explain"]["recall@10"] >= 0.5
    with pytest.raises(CommandError, match="pastes only"):
        call_command("evaluate", "composites", "--json", "--count", "1", "--protocol", "held-out-wide")
