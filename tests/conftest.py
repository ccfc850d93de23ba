import os

# Everything must work with no network: the models come from installed packages.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import pytest  # noqa: E402

from tests.fakes import FakeBackend  # noqa: E402


@pytest.fixture
def fake_backend():
    return FakeBackend()


@pytest.fixture(scope="session")
def bundled_model_dir():
    """The dense bundled model (converted once into the user cache)."""
    from inversion_tui.hf.models import ensure_bundled_generator

    return ensure_bundled_generator()


@pytest.fixture(scope="session")
def tokenizer(bundled_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(bundled_model_dir)


@pytest.fixture(scope="session")
def real_backend():
    """The real bundled model and embedder, shared by the tests that need real outputs. In
    float32 on any device: the tests that compare two ways of computing the same thing compare
    exactly or within fp32 tolerances, which bf16 on a GPU would not meet."""
    from inversion_tui.hf.backend import HFBackend
    from inversion_tui.settings import build_settings

    return HFBackend.load(build_settings(output="unused", quant="none", dtype="float32"))


@pytest.fixture(scope="session")
def docs_index():
    """The documentation index `make setup` built in the user cache. In CI it must exist; on a
    machine where nothing built it, the tests that read it say why they are skipped."""
    from inversion_tui.manuals.index import default_docs, index_path

    docs = default_docs()
    if docs is None:
        if os.environ.get("CI"):
            pytest.fail(f"no documentation index at {index_path()}: `make setup` builds it")
        pytest.skip(f"no documentation index at {index_path()}: run `make setup`")
    return docs
