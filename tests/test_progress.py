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


def test_a_record_read_from_an_older_run_is_written_back_as_it_was(tmp_path):
    """Issue 25: typed records; an older run's cycle (no `training`, a key this version does not
    know, a skipped step without the keys added since) keeps its shape through a resume's rewrite."""
    import json

    old = {"cycle": 1, "before": {"total_generated": 8, "accepted": 0, "acceptance_rate": 0.0, "mean_score": 0.2},
           "after": {"total_generated": 8, "accepted": 1, "acceptance_rate": 0.125, "mean_score": 0.3},
           "improvement": 0.1, "train_loss": None, "train_examples": 0, "checkpoint": "checkpoint_cycle_1",
           "from_an_old_version": {"kept": True},
           "manual_trainings": [{"cycle": 1, "mean_loss": None, "examples": 0, "steps": 0, "trained_indices": []}]}
    (tmp_path / "progress.json").write_text(json.dumps({"last_completed_cycle": 1, "history": {"cycles": [old]}}))
    progress = Progress.read(tmp_path)
    cycle = progress.cycles[0]
    assert cycle.training is None and cycle.train_steps is None and cycle.trained  # counted as trained, as before
    assert cycle.before.flagged is None and cycle.manual_trainings[0].losses == []
    progress.write(tmp_path)
    assert json.loads((tmp_path / "progress.json").read_text())["history"]["cycles"] == [old]


def test_a_progress_file_of_the_wrong_shape_is_one_line_not_a_traceback(tmp_path):
    import pytest

    from inversion_tui.errors import RunDirectoryError

    (tmp_path / "progress.json").write_text('{"history": {"cycles": [{"before": 3}]}}')
    with pytest.raises(RunDirectoryError, match="not a progress file this version can read"):
        Progress.read(tmp_path)
