import collections
import json
import subprocess
import sys
import zipfile
from fractions import Fraction

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


# ------------------------------------------------------- never lose data
def _one_line_error(capsys, *fragments):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("skrnn: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".skrnn-"))


@pytest.fixture
def trained(visits_csv, tmp_path):
    return _train(visits_csv, tmp_path, extra=["--quiet"])


def test_failed_prediction_write_keeps_the_old_file(
    visits_csv, trained, tmp_path, capsys, monkeypatch
):
    pred = tmp_path / "pred.csv"
    pred.write_text("old predictions\n")
    real_to_csv = pd.DataFrame.to_csv

    def half_then_fail(self, path, **kwargs):
        real_to_csv(self.iloc[: len(self) // 2], path, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)
    assert main(["predict", str(trained), str(visits_csv), "--out", str(pred)]) == 1
    _one_line_error(capsys, "No space left on device")
    assert pred.read_text() == "old predictions\n"
    assert _leftovers(tmp_path) == []


def test_failed_model_write_keeps_the_old_model(
    visits_csv, trained, tmp_path, capsys, monkeypatch
):
    import skops.io as sio

    before = trained.read_bytes()
    real_dump = sio.dump

    def half_then_fail(obj, file, **kwargs):
        real_dump(obj, file, **kwargs)
        with open(file, "r+b") as f:
            f.truncate(100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sio, "dump", half_then_fail)
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
            "--param",
            "max_iter=1",
            "--param",
            "hidden_layer_sizes=2",
            "--out",
            str(trained),
            "--quiet",
        ]
    )
    assert status == 1
    _one_line_error(capsys, "No space left on device")
    assert trained.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_written_files_are_whole_and_keep_the_permissions(
    visits_csv, trained, tmp_path
):
    pred = tmp_path / "pred.csv.gz"  # pandas compresses by the suffix
    pred.write_text("old")
    pred.chmod(0o640)
    assert main(["predict", str(trained), str(visits_csv), "--out", str(pred)]) == 0
    assert len(pd.read_csv(pred)) == 120
    assert pred.stat().st_mode & 0o777 == 0o640
    assert _leftovers(tmp_path) == []


_BLOCKING_WRITER = """
import sys, time
from skrnn.cli import atomic_write

def write(tmp):
    with open(tmp, "w") as f:
        f.write("half of the new con")
    print("writing", flush=True)
    time.sleep(60)

atomic_write(sys.argv[1], write)
"""


def _sigint_default():
    # Run in the child before exec: a process started in the background by a
    # non-interactive shell passes SIGINT on ignored, and Ctrl-C would then
    # do nothing in the child.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGINT"])
def test_a_killed_write_leaves_the_old_file(tmp_path, signal_name):
    import signal

    target = tmp_path / "pred.csv"
    target.write_text("old content\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", _BLOCKING_WRITER, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,  # import the installed skrnn, not the source tree
        preexec_fn=_sigint_default,
    )
    assert proc.stdout.readline() == "writing\n"
    proc.send_signal(getattr(signal, signal_name))
    proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert target.read_text() == "old content\n"
    # Ctrl-C cleans up; SIGKILL cannot, and leaves one hidden temporary file
    assert len(_leftovers(tmp_path)) == (1 if signal_name == "SIGKILL" else 0)


def test_interrupted_train_leaves_a_whole_model(visits_csv, trained, tmp_path):
    import signal

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skrnn",
            "train",
            str(visits_csv),
            "--group",
            "id",
            "--time",
            "day",
            "--target",
            "dead",
            "--param",
            "max_iter=100000",
            "--param",
            "tol=0",
            "--param",
            "hidden_layer_sizes=2",
            "--out",
            str(trained),
        ],
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        preexec_fn=_sigint_default,
    )
    assert proc.stderr.readline().startswith("training ")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err
    # whether the fit stops with an error or keeps its last epoch, the model
    # file is a whole model: the old one or the new one
    assert main(["evaluate", str(trained), str(visits_csv)]) == 0
    if proc.returncode != 0:
        assert proc.returncode == 130 and "skrnn: interrupted" in err


# ------------------------------------------------ output equal to an input
def _same_file_cases(tmp_path, path):
    link = tmp_path / "link"
    link.symlink_to(path)
    hard = tmp_path / "hard"
    hard.hardlink_to(path)
    dotted = path.parent / "sub" / ".." / path.name
    (path.parent / "sub").mkdir(exist_ok=True)
    return [path, link, hard, dotted]


def test_train_refuses_to_write_over_its_data(visits_csv, tmp_path, capsys):
    before = visits_csv.read_bytes()
    for out in _same_file_cases(tmp_path, visits_csv):
        args = ["train", str(visits_csv), "--group", "id", "--time", "day"]
        args += ["--target", "dead", "--out", str(out)]
        assert main(args) == 1
        _one_line_error(capsys, "is the input", "choose another --out")
    assert visits_csv.read_bytes() == before


@pytest.mark.parametrize("which", ["model", "data"])
def test_predict_refuses_to_write_over_an_input(
    visits_csv, trained, tmp_path, capsys, which
):
    target = trained if which == "model" else visits_csv
    before = target.read_bytes()
    for out in _same_file_cases(tmp_path, target):
        args = ["predict", str(trained), str(visits_csv), "--out", str(out)]
        assert main(args) == 1
        _one_line_error(capsys, "is the input")
    assert target.read_bytes() == before


def test_an_output_folder_that_does_not_exist_fails_before_training(
    visits_csv, tmp_path, capsys
):
    out = tmp_path / "no" / "model.skops"
    args = ["train", str(visits_csv), "--group", "id", "--time", "day"]
    args += ["--target", "dead", "--out", str(out)]
    assert main(args) == 1
    _one_line_error(capsys, "does not exist")
    assert main(args[:-1] + [str(tmp_path)]) == 1
    _one_line_error(capsys, "is a folder")


# ---------------------------------------------------------- bad tables
def _bad_tables(tmp_path, visits_csv):
    text = visits_csv.read_text()
    header, *rows = text.splitlines()
    columns = header.split(",")
    bili = columns.index("bili")
    text_cell = rows[4].split(",")
    text_cell[bili] = "oops"
    cases = {
        "empty.csv": (b"", "the file is empty"),
        "blank.csv": (b"\n\n\n", "the file is empty"),
        "header_only.csv": ((header + "\n").encode(), "has no data rows"),
        "utf16.csv": (text.encode("utf-16"), "not UTF-8 text"),
        "latin1.csv": (
            text.replace("albumin", "albümin").encode("latin-1"),
            "not UTF-8 text",
        ),
        "duplicated.csv": (
            text.replace("chol", "bili", 1).encode(),
            "more than one column named 'bili'",
        ),
        "ragged.csv": ((text + "1,2\n" + "1," * 30 + "\n").encode(), "Expected"),
        "not_parquet.parquet": (text.encode(), "cannot read"),
        "text_feature.csv": (
            "\n".join([header, *rows[:4], ",".join(text_cell), *rows[5:]]).encode(),
            "Column 'bili' is not numeric",
        ),
    }
    paths = {}
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        paths[name] = (path, message)
    return paths


BAD_TABLES = [
    "empty.csv",
    "blank.csv",
    "header_only.csv",
    "utf16.csv",
    "latin1.csv",
    "duplicated.csv",
    "ragged.csv",
    "not_parquet.parquet",
    "text_feature.csv",
]


@pytest.mark.parametrize("name", BAD_TABLES)
def test_a_malformed_table_is_one_line(visits_csv, trained, tmp_path, capsys, name):
    path, message = _bad_tables(tmp_path, visits_csv)[name]
    pred = tmp_path / "pred.csv"
    assert main(["predict", str(trained), str(path), "--out", str(pred)]) == 1
    _one_line_error(capsys, message)
    assert not pred.exists()
    assert main(["evaluate", str(trained), str(path)]) == 1
    _one_line_error(capsys, message)
    args = ["train", str(path), "--group", "id", "--time", "day", "--target", "dead"]
    if name == "text_feature.csv":  # by default a text column is left out
        args += ["--features", "bili", "albumin"]
    assert main(args + ["--out", str(tmp_path / "m.skops")]) == 1
    _one_line_error(capsys, message)


def test_bad_parquet_files_are_one_line(visits_csv, trained, tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.Table.from_pandas(pd.read_csv(visits_csv), preserve_index=False)
    duplicated = tmp_path / "duplicated.parquet"
    pq.write_table(
        pa.table(
            [table["id"], table["day"], table["bili"], table["bili"]],
            names=["id", "day", "bili", "bili"],
        ),
        duplicated,
    )
    header_only = tmp_path / "header_only.parquet"
    pq.write_table(table.slice(0, 0), header_only)
    truncated = tmp_path / "truncated.parquet"
    pq.write_table(table, truncated)
    truncated.write_bytes(truncated.read_bytes()[:-100])
    for path, message in [
        (duplicated, "cannot read"),
        (header_only, "has no data rows"),
        (truncated, "cannot read"),
    ]:
        assert main(["evaluate", str(trained), str(path)]) == 1
        _one_line_error(capsys, message, str(path))


def test_train_says_which_text_columns_it_leaves_out(visits_csv, tmp_path, capsys):
    table = pd.read_csv(visits_csv)
    table["note"] = "seen"
    data = tmp_path / "noted.csv"
    table.to_csv(data, index=False)
    _train(data, tmp_path)
    assert "left out of the features: note" in capsys.readouterr().err


# ------------------------------------------------------ untrusted models
class TaggedDict(collections.OrderedDict):
    """A type outside skrnn, scikit-learn and NumPy."""


def _dump(obj, path):
    import skops.io as sio

    sio.dump(obj, path)
    return path


def test_a_model_file_with_an_untrusted_type_is_refused(
    visits_csv, trained, tmp_path, capsys
):
    import skops.io as sio

    saved = sio.load(trained, trusted=sio.get_untrusted_types(file=trained))
    pipeline, meta = saved["pipeline"], saved["meta"]
    files = {
        "fractions.Fraction": _dump(
            {"pipeline": pipeline, "meta": {**meta, "scale": Fraction(1, 3)}},
            tmp_path / "fraction.skops",
        ),
        "TaggedDict": _dump(
            {"pipeline": pipeline, "meta": TaggedDict(meta)},
            tmp_path / "tagged.skops",
        ),
    }
    for type_name, path in files.items():
        args = ["predict", str(path), str(visits_csv), "--out", str(tmp_path / "p")]
        assert main(args) == 1
        _one_line_error(capsys, "does not trust", type_name, "not loading it")


def test_a_model_file_cannot_run_code(visits_csv, tmp_path, capsys):
    """skops calls a trusted name with arguments from the file: a file naming
    ``builtins.eval`` runs any code if ``builtins.*`` were trusted."""
    import skops.io as sio

    marker = tmp_path / "ran"
    plain = _dump(
        {"pipeline": (f"open({str(marker)!r}, 'w').close()",), "meta": {}},
        tmp_path / "plain.skops",
    )
    with zipfile.ZipFile(plain) as z:
        schema = json.loads(z.read("schema.json"))
    schema["content"]["pipeline"] = {
        "__class__": "eval",
        "__module__": "builtins",
        "__loader__": "ConstructorFromReduceNode",
        "content": schema["content"]["pipeline"],
        "__id__": 1,
    }
    evil = tmp_path / "evil.skops"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("schema.json", json.dumps(schema))

    args = ["predict", str(evil), str(visits_csv), "--out", str(tmp_path / "p.csv")]
    assert main(args) == 1
    _one_line_error(capsys, "does not trust", "builtins.eval")
    assert not marker.exists()
    # the file is a real exploit: trusting its type runs the code
    sio.load(evil, trusted=["builtins.eval"])
    assert marker.exists()


@pytest.mark.parametrize("kind", ["truncated", "not_a_model", "no_meta"])
def test_a_broken_model_file_is_one_line(visits_csv, trained, tmp_path, capsys, kind):
    path = tmp_path / f"{kind}.skops"
    if kind == "truncated":
        path.write_bytes(trained.read_bytes()[:300])
        message = "cannot read model"
    elif kind == "not_a_model":
        _dump([1, 2, 3], path)
        message = "is not a model saved by `skrnn train`"
    else:
        _dump({"pipeline": {}, "meta": {}}, path)
        message = "is not a model saved by `skrnn train`"
    assert main(["evaluate", str(path), str(visits_csv)]) == 1
    _one_line_error(capsys, message)
