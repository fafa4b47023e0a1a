"""The sampler grid seeds the global random state only where the sampler uses it, and what every call
sees is still what seeding all of it before each call gives."""

from __future__ import annotations

import random

import numpy as np
from temporalkit.validators.dynamic import sampler_checks
from temporalkit.validators.dynamic.adapters import base
from temporalkit.validators.dynamic.sampler_checks import build_samplers, check_sampler

GRID = dict(lengths=list(range(0, 41)) + [97, 300], clip_lengths=list(range(1, 17)) + [32, 64])


def _run(fn):
    findings = []
    for sampler in build_samplers(fn, fn.__name__, "sampler", {}, None):
        findings += check_sampler(sampler, **GRID)
    return findings


def test_a_sampler_that_never_draws_is_not_reseeded_before_every_call(monkeypatch):
    calls = []

    def evenly_spread(num_frames, T):
        if num_frames <= 0:
            raise ValueError("empty video")
        calls.append((num_frames, T))
        return np.linspace(0, num_frames - 1, T).round().astype(np.int64)

    seedings = []
    real = np.random.seed
    monkeypatch.setattr(np.random, "seed", lambda seed: (seedings.append(seed), real(seed)))
    assert _run(evenly_spread) == []
    assert len(calls) > 500
    assert len(seedings) < len(calls) // 10  # once per grid seed and per check, not once per call


def test_a_draw_hidden_in_short_clips_still_sees_the_seeded_state():
    """Deterministic on long videos (so classified deterministic), random on short ones: each of those
    draws must come from the state seeded with the cell's seed, as when every call was seeded."""
    seen = []

    def mostly_even(num_frames, T):
        if 0 < num_frames < T:
            seen.append((np.random.randint(1_000_000), random.random()))
            return np.sort(np.random.randint(0, num_frames, size=T))
        return np.linspace(0, max(num_frames - 1, 0), T).round().astype(np.int64)

    _run(mostly_even)
    np.random.seed(0)
    random.seed(0)
    expected = (np.random.randint(1_000_000), random.random())
    assert seen and all(draw == expected for draw in seen)


def test_only_the_generator_a_random_sampler_uses_is_seeded_and_its_draws_repeat_per_seed(monkeypatch):
    draws = []

    def random_start(num_frames, T):
        if num_frames <= 0:
            raise ValueError("empty video")
        high = max(num_frames - T, 0) + 1
        start = int(np.random.randint(0, high))
        draws.append((high, start))
        return np.minimum(np.arange(start, start + T), num_frames - 1)

    _run(random_start)
    # Every draw is the first one of the numpy state seeded with some seed the checks use: the state was
    # seeded before that call, never left where an earlier call put it.
    seeds = [*range(0, 10), *range(1000, 1200)]
    for high in {h for h, _ in draws if h >= 50}:
        firsts = set()
        for seed in seeds:
            np.random.seed(seed)
            firsts.add(int(np.random.randint(0, high)))
        assert all(start in firsts for h, start in draws if h == high), high
    # In the grid, `random` (which it never uses) is seeded once per grid seed, numpy before each call.
    (sampler,) = build_samplers(random_start, "random_start", "sampler", {}, None)
    sampler.random = True
    python_seeds, numpy_seeds = [], []
    real_seed, real_np_seed = random.seed, np.random.seed
    monkeypatch.setattr(random, "seed", lambda *a, **k: (python_seeds.append(a), real_seed(*a, **k)))
    monkeypatch.setattr(np.random, "seed", lambda *a: (numpy_seeds.append(a), real_np_seed(*a)))
    draws.clear()
    sampler_checks._run_grid(sampler, range(1, 41), range(1, 9), (0, 1, 2), "TCHW", sampler_checks._GridResult())
    assert len(draws) >= 40 * 8 * 3 and len(numpy_seeds) >= len(draws)
    assert len(python_seeds) <= 6


def test_global_state_tells_which_generator_moved():
    state = base.GlobalState(3)
    assert state.moved() == set()
    np.random.random()
    assert state.moved() == {"numpy"}
    random.random()
    assert state.moved() == {"numpy", "random"}
    assert base.GlobalState(3).moved() == set()
