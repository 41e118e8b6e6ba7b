"""Golden outputs: the forecasts of a fixed synthetic stream must not move when the kernels are
optimised (speed work must leave every figure identical, up to 1e-12).

The expected numbers were produced by the kernels before the update path was fused into one
function (commit dd18050). The stream exercises missing values, flagged readings, a duplicate,
short gaps, a fault reset (> 1 day gap), a level shift and a negative series; values come from a
triangle wave and integer noise, so no libm call can shift them between machines.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.forecast.config import COMBINE_ARGMIN, ForecastConfig
from models.forecast.streaming import StreamingForecaster

HOUR_MS = 3_600_000
T0_MS = 1_700_006_400_000


def _stream(config: ForecastConfig | None) -> np.ndarray:
    """Feed 12 days of 4 hourly sensors; return ``(yhat, lo, hi)`` stacked, ``[3, 4, 6]``."""
    rng = np.random.default_rng(11)
    fc = StreamingForecaster(4, 3600, 6, config)
    n, steps = 4, 24 * 12
    slot = np.arange(steps) % 24
    shape = np.minimum(slot, 24 - slot).astype(np.float64)
    noise = rng.integers(-8, 9, (steps, n)) / 8.0
    vals = np.stack([20 + shape, 5 + 0.5 * shape, -3 - shape, 50 + 2 * shape], axis=1) + noise
    vals[steps // 2:, 1] += 15.0  # level shift
    for s in range(steps):
        v = vals[s].copy()
        keep = np.ones(n, bool)
        if s % 17 == 5:
            v[0] = np.nan
        if s % 23 == 7:
            keep[1] = False  # short gap
        if 100 <= s < 130:
            keep[2] = False  # longer than a day: fault reset
        skip = np.zeros(n, np.uint8)
        if s % 31 == 3:
            skip[3] = 1
        idx = np.arange(n, dtype=np.int64)[keep]
        ts = T0_MS + s * HOUR_MS + idx * 60_000
        # the last reading repeats sensor idx[0]'s timestamp: a duplicate to be dropped
        fc.update_batch(np.r_[idx, idx[:1]], np.r_[v[keep], 99.0], np.r_[ts, ts[:1]],
                        np.r_[skip[keep], 0])
    return np.stack(fc.forecast(np.arange(n)))


DEFAULT = [
    [
        [20.21278092047731, 21.07729333314255, 21.62564348382561,
         22.85874301474636, 23.770385743104168, 24.34862174364968],
        [19.824239363043606, 19.820611634311177, 20.484526025100305,
         21.10000232434681, 22.22140259327213, 22.84124311910003],
        [-3.7816825252724744, -3.2934923533718075, -4.49521033855903,
         -6.512413524892905, -7.214241026224284, -7.419829965192888],
        [50.07946795810879, 52.57875616124114, 53.96999246010257,
         55.85775487804653, 58.65238121553734, 60.35167253965995],
    ],
    [
        [19.011600361638912, 19.933181074502116, 20.627913689950233,
         21.72580543693818, 22.606137430128715, 23.153062695506943],
        [18.695621624068153, 18.61666766734426, 19.005836087169833,
         20.27737393890032, 21.15548542075632, 21.532037159514903],
        [-4.873102990615, -4.763216430875665, -5.379075186135626,
         -7.784584812168865, -8.36118562650734, -8.44154787848304],
        [49.00560877719978, 51.59880641425723, 52.971254336497765,
         54.75620261650295, 57.56512173006773, 59.27870583026433],
    ],
    [
        [21.374865301653593, 22.221405591782982, 22.529021541192083,
         24.10959774880146, 24.97474934400173, 25.506494211389708],
        [21.0290539611281, 21.10867767782791, 22.01313168071599,
         21.951170675795524, 23.372681113438635, 24.29263180798432],
        [-2.7255560017616824, -1.7224908811140935, -3.5809968807824033,
         -5.280985964536878, -6.051338905932011, -6.3254532849643645],
        [51.1169543961698, 53.462706862160196, 55.00362254180186,
         57.0390611848393, 59.798260329213626, 61.46212446021975],
    ],
]

ARGMIN = [
    [
        [20.5, 21.75, 22.375,
         23.375, 23.618242821070343, 24.358140292002027],
        [20.0, 20.054833457932823, 20.549934110074904,
         21.146169730954327, 22.28466086004576, 22.910624037407665],
        [-3.875, -3.0, -4.25,
         -6.625, -7.125, -7.0],
        [50.25, 52.5, 53.0,
         55.125, 58.9375, 60.875],
    ],
    [
        [19.499973768402572, 20.60369346296739, 21.07092761703753,
         22.22668778921524, 22.44492749962657, 23.159821859899242],
        [18.81147260153838, 18.397956822563703, 18.985189674008797,
         20.210406950145174, 21.105430320808427, 21.48792573974215],
        [-4.931336874721424, -4.478937646769853, -5.22390369142966,
         -7.896508153992605, -8.317968831802428, -8.114429509612252],
        [48.95479240976548, 51.384540031303615, 51.95134060045232,
         53.388410870246254, 57.53184472403656, 59.800278577826845],
    ],
    [
        [21.500026231597428, 22.89630653703261, 23.679072382962467,
         24.602990451982194, 24.850898773511307, 25.59546174490177],
        [21.18852739846162, 21.767640808896086, 22.167499181161695,
         22.021215482219368, 23.510787011507016, 24.487830589065133],
        [-2.8528225472383175, -1.3681939126559428, -3.242656101524423,
         -5.3942143348113, -5.9332597438010275, -5.847305152790756],
        [51.63602372215895, 53.50964134787498, 54.16254618293824,
         56.80296758204962, 60.35275022811578, 62.02753287418196],
    ],
]


@pytest.mark.parametrize(
    ("config", "expected"),
    [(None, DEFAULT), (ForecastConfig(combine=COMBINE_ARGMIN, power=2.5), ARGMIN)],
    ids=["inverse-loss", "argmin"],
)
def test_forecasts_match_golden(config: ForecastConfig | None, expected: list) -> None:
    got = _stream(config)
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-12, atol=1e-12)
