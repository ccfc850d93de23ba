"""Prompts: the forward prompt carries the task and nothing of its references; the inverse
prompt carries the command and nothing of the task (the seed leaked the tool name)."""

import random

from inversion_tui.loop.generate import forward_messages, forward_prompt
from inversion_tui.loop.invert import inverse_messages, inverse_prompt
from inversion_tui.tasks import load_packs


def test_forward_prompt_never_contains_a_reference(fake_backend):
    pack = load_packs("pentest,shell")
    rng = random.Random(3)
    for instance in pack.sample(300, rng):
        prompt = forward_prompt(fake_backend, instance.task, pack.examples[:2])
        assert instance.task in prompt
        for reference in instance.references:
            assert reference not in prompt, (reference, prompt)


def test_inverse_prompt_sees_only_the_command():
    pack = load_packs("pentest")
    instance = next(i for i in pack.sample(50, random.Random(1)) if i.tool == "nmap")
    command = "ls -la /tmp"  # a command that does not name the task's tool
    text = " ".join(m["content"] for m in inverse_messages(command, pack.examples[:2]))
    assert command in text
    assert instance.task not in text
    assert "nmap" not in text and instance.tool not in text
    for word in ("Scan", "port", instance.template_id):
        assert word not in text


def test_few_shot_examples_come_from_the_pack_and_alternate_roles():
    pack = load_packs("shell")
    messages = forward_messages("Count the lines in a.txt", pack.examples[:2])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[2]["content"] == pack.examples[0].command
    inverse = inverse_messages("wc -l a.txt", pack.examples[:2])
    assert inverse[1]["content"] == pack.examples[0].command and inverse[2]["content"] == pack.examples[0].task


def test_prompts_use_the_model_chat_template(real_backend):
    pack = load_packs("pentest")
    prompt = forward_prompt(real_backend, "Scan port 80 on 10.0.0.5", pack.examples[:2])
    assert prompt.startswith("<|im_start|>system\n")
    assert prompt.endswith("<|im_start|>user\nScan port 80 on 10.0.0.5<|im_end|>\n<|im_start|>assistant\n")
    inverse = inverse_prompt(real_backend, "nmap -p 80 10.0.0.5", pack.examples[:2])
    assert "Scan port 80" not in inverse and inverse.endswith("<|im_start|>assistant\n")
