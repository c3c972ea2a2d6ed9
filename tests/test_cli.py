import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skrnn.cli import main
from skrnn.datasets import load_pbcseq


@pytest.fixture
def visits_csv(tmp_path):
    visits = load_pbcseq()
    visits = visits[visits["id"] <= 120].drop(columns=["futime"])
    visits = visits.assign(
        dead=(visits["status"] == 2).astype(int), sex=(visits["sex"] == "f").astype(int)
    ).drop(columns="status")
    path = tmp_path / "visits.csv"
    visits.to_csv(path, index=False)
    return path


def _train(visits_csv, tmp_path, model="rnn-classifier", extra=()):
    out = tmp_path / "model.skops"
    status = main(
        [
            "train",
            str(visits_csv),
            "--group",
            "id",
            "--time",
            "day",
            "--target",
            "dead",
            "--model",
            model,
            "--time-gap",
            "--param",
            "hidden_layer_sizes=4",
            "--param",
            "max_iter=3",
            "--param",
            "random_state=0",
            "--out",
            str(out),
            *extra,
        ]
    )
    assert status == 0
    return out


def test_train_predict_evaluate(visits_csv, tmp_path, capsys):
    model = _train(visits_csv, tmp_path)
    err = capsys.readouterr().err
    assert "epoch 3/3" in err  # the progress bar
    pred = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(visits_csv), "--out", str(pred)]) == 0
    table = pd.read_csv(pred)
    assert list(table.columns) == ["id", "prediction", "proba_0", "proba_1"]
    assert len(table) == 120
    assert np.allclose(table["proba_0"] + table["proba_1"], 1)
    capsys.readouterr()
    assert main(["evaluate", str(model), str(visits_csv)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "roc_auc" in out and "log_loss" in out


def test_regressor_and_parquet(visits_csv, tmp_path, capsys):
    parquet = tmp_path / "visits.parquet"
    pytest.importorskip("pyarrow")
    pd.read_csv(visits_csv).to_parquet(parquet)
    model = _train(parquet, tmp_path, model="gru-regressor", extra=["--quiet"])
    assert capsys.readouterr().err == ""
    pred = tmp_path / "pred.parquet"
    assert main(["predict", str(model), str(parquet), "--out", str(pred)]) == 0
    assert list(pd.read_parquet(pred).columns) == ["id", "prediction"]
    assert main(["evaluate", str(model), str(parquet)]) == 0
    assert "r2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (
            [
                "train",
                "missing.csv",
                "--group",
                "id",
                "--time",
                "day",
                "--target",
                "dead",
                "--out",
                "m.skops",
            ],
            "no such file: missing.csv",
        ),
        (
            [
                "train",
                "{data}",
                "--group",
                "patient",
                "--time",
                "day",
                "--target",
                "dead",
                "--out",
                "m.skops",
            ],
            "column 'patient' is not in the table",
        ),
        (
            [
                "train",
                "{data}",
                "--group",
                "id",
                "--time",
                "day",
                "--target",
                "dead",
                "--param",
                "hidden_layer_sizes",
                "--out",
                "m.skops",
            ],
            "--param takes name=value",
        ),
        (
            [
                "train",
                "{data}",
                "--group",
                "id",
                "--time",
                "day",
                "--target",
                "dead",
                "--param",
                "colour=3",
                "--out",
                "m.skops",
            ],
            "bad --param",
        ),
        (["predict", "{data}", "{data}", "--out", "p.csv"], "cannot read model"),
    ],
)
def test_errors_are_one_line_without_traceback(
    visits_csv, tmp_path, capsys, args, message
):
    args = [a.format(data=visits_csv) for a in args]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skrnn: error: ")
    assert message in err
    assert "Traceback" not in err


def test_predict_names_a_missing_column(visits_csv, tmp_path, capsys):
    model = _train(visits_csv, tmp_path, extra=["--quiet"])
    table = pd.read_csv(visits_csv).drop(columns="bili")
    other = tmp_path / "other.csv"
    table.to_csv(other, index=False)
    assert (
        main(["predict", str(model), str(other), "--out", str(tmp_path / "p.csv")]) == 1
    )
    assert "column 'bili' is not in the table" in capsys.readouterr().err


def test_python_dash_m_runs_the_command(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "skrnn",
            "predict",
            "nothing.skops",
            "nothing.csv",
            "--out",
            "x.csv",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "skrnn: error: no such file: nothing.skops"
    assert "Traceback" not in done.stderr
