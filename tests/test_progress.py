"""progress.json has one reader and writer: Progress."""

from inversion_tui.loop.progress import Progress


def test_unknown_keys_are_kept_and_the_seed_shape_is_written(tmp_path):
    data = {"last_completed_cycle": 2, "timestamp": "t", "status": "stopped", "history": {"cycles": [{"cycle": 1}]},
            "forced_stop": "then", "from_a_newer_version": [1, 2]}
    progress = Progress.from_json(data)
    assert progress.status == "stopped" and [c.to_json() for c in progress.cycles] == [{"cycle": 1}] and progress.first_open_cycle == 3
    progress.write(tmp_path)
    written = Progress.read(tmp_path).to_json()
    assert written["forced_stop"] == "then" and written["from_a_newer_version"] == [1, 2]
    assert written["history"] == {"cycles": [{"cycle": 1}]} and written["last_completed_cycle"] == 2


def test_a_run_without_progress_yet_reads_as_fresh(tmp_path):
    progress = Progress.read(tmp_path)
    assert progress.status == "running" and progress.last_completed_cycle == 0 and progress.cycles == []


def test_trained_positions_and_the_current_cycles_training():
    progress = Progress.from_json({
        "history": {"cycles": [{"cycle": 1, "training": {"trained_indices": [0, 2]}}]},
        "manual_trainings": [{"cycle": 2, "trained_indices": [1]}],
        "current": {"cycle": 2, "training": {"trained_indices": [3]}},
        "last_completed_cycle": 1})
    assert progress.trained_positions() == {(1, 0), (1, 2), (2, 1), (2, 3)}
    assert progress.training_of(2).to_json() == {"trained_indices": [3]} and progress.training_of(3) is None
