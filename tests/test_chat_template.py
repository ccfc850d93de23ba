"""Models whose chat template rejects a system turn (Mistral-7B-Instruct-v0.2, the seed's own
model; Gemma) are prompted with the system text in the first user turn. Which templates those
are is found by rendering, not from a model's name."""

import copy
import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from inversion_tui.chat_template import accepts_system_role, fold_system_message
from inversion_tui.hf.backend import HFBackend, LoadedModels
from inversion_tui.loop.generate import FORWARD_SYSTEM, forward_messages
from inversion_tui.tasks import load_packs

# Mistral-7B-Instruct-v0.2's template, as published with the model.
MISTRAL_V02 = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
# Gemma's refuses the role outright.
GEMMA_LIKE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
    "{% endif %}{% for message in messages %}{{ '<start_of_turn>' + message['role'] + '\n' + message['content'] "
    "+ '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)
# And one that drops it without a word.
DROPS_SYSTEM = (
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'] + ': ' + "
    "message['content'] + '\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"
)


@pytest.fixture
def with_template(tokenizer):
    def make(template):
        changed = copy.deepcopy(tokenizer)
        changed.chat_template = template
        return changed

    return make


@pytest.mark.parametrize("template", [MISTRAL_V02, GEMMA_LIKE, DROPS_SYSTEM], ids=["mistral", "gemma", "drops"])
def test_templates_without_a_system_role_get_it_in_the_first_user_turn(with_template, template):
    tokenizer = with_template(template)
    assert not accepts_system_role(tokenizer)
    backend = HFBackend(LoadedModels(None, tokenizer, None, "cpu", {}, prefix_cache=False))
    messages = forward_messages("Count the lines in a.txt", load_packs("shell").examples[:2])
    prompt = backend.chat_prompt(messages)  # raised TemplateError for Mistral before
    assert prompt.count(FORWARD_SYSTEM) == 1
    assert prompt.index(FORWARD_SYSTEM) < prompt.index(messages[1]["content"])
    assert "Count the lines in a.txt" in prompt


def test_a_template_with_a_system_role_keeps_it(tokenizer):
    assert accepts_system_role(tokenizer)  # SmolLM2's
    backend = HFBackend(LoadedModels(None, tokenizer, None, "cpu", {}, prefix_cache=False))
    messages = forward_messages("Count the lines in a.txt", load_packs("shell").examples[:2])
    assert backend.chat_prompt(messages) == tokenizer.apply_chat_template(messages, tokenize=False,
                                                                         add_generation_prompt=True)


def test_fold_keeps_the_turns_alternating():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"},
                {"role": "assistant", "content": "A"}, {"role": "user", "content": "Q"}]
    assert fold_system_message(messages) == [{"role": "user", "content": "S\n\nU"},
                                             {"role": "assistant", "content": "A"}, {"role": "user", "content": "Q"}]
    assert messages[1]["content"] == "U"  # the caller's messages are not changed


@pytest.mark.slow
def test_score_with_a_model_whose_template_rejects_the_system_role(tmp_path, bundled_model_dir, tokenizer):
    """The issue's reproduction: `score --model DIR` with Mistral's template, on the real model."""
    model_dir = tmp_path / "mistral-templated"
    model_dir.mkdir()
    for path in bundled_model_dir.iterdir():
        if path.is_file() and not path.name.startswith(("tokenizer", "special_tokens", "chat_template")):
            (model_dir / path.name).symlink_to(path)
    changed = copy.deepcopy(tokenizer)
    changed.chat_template = MISTRAL_V02
    changed.save_pretrained(model_dir)
    result = CliRunner().invoke(app, ["score", "List files in /tmp", "ls /tmp", "--json", "--model", str(model_dir),
                                      "--quant", "none"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["reconstruction"] and 0.0 <= report["score"] <= 1.0
