"""Load an exported dataset directory with LLaMA-Factory's own data code (runs in .venv-llamafactory).

Kept out of the ftdata venv because LLaMA-Factory pins transformers, datasets,
peft, trl and torch; the test (tests/llamafactory/test_llamafactory_loads_exports.py)
runs this script with that venv's python and reads the summary it prints.

    python load_with_llamafactory.py DATASET_DIR [NAME=STAGE ...] [--dump DIR]

For every entry of DATASET_DIR/dataset_info.json, as a training run would:
``llamafactory.data.parser.get_dataset_list`` reads the entry into a DatasetAttr,
``llamafactory.data.loader._get_merged_dataset`` loads the file through HF datasets and
aligns it with LLaMA-Factory's converter (it refuses a dataset whose ``ranking`` does not
fit the stage), then ``llamafactory.data.loader._get_preprocessed_dataset`` runs the
stage's processor (Supervised / Pairwise / Feedback) with a tiny whitespace tokenizer
built here, and counts the rows it keeps. STAGE is the finetuning stage (sft, dpo, rm,
kto); without NAME=STAGE it follows the entry (ranking: dpo, kto_tag: kto, else sft).
The last stdout line is a JSON list, one summary per dataset; --dump writes each
aligned dataset to DIR/NAME.jsonl.
"""

from __future__ import annotations

import importlib.machinery
import json
import logging
import os
import shutil
import sys
import tempfile
import types
from collections import Counter
from pathlib import Path

# LLaMA-Factory's mm_plugin imports torchaudio at module level (it only uses it to read
# audio files). PyPI's torchaudio wheels link CUDA's libc10_cuda.so, which the CPU torch
# here lacks, and our exports carry no audio: a named stand-in lets the data package import.
if "torchaudio" not in sys.modules:
    _stub = types.ModuleType("torchaudio")
    _stub.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
    sys.modules["torchaudio"] = _stub

from llamafactory.data.loader import _get_merged_dataset, _get_preprocessed_dataset  # noqa: E402
from llamafactory.data.parser import get_dataset_list  # noqa: E402
from llamafactory.data.template import get_template_and_fix_tokenizer  # noqa: E402
from llamafactory.extras import logging as lf_logging  # noqa: E402
from llamafactory.extras.env import VERSION  # noqa: E402
from llamafactory.hparams import DataArguments, ModelArguments, TrainingArguments  # noqa: E402

# The stage a finetuning run hands the data loader (train/*/workflow.py: dpo loads as "rm").
DATA_STAGE = {"sft": "sft", "dpo": "rm", "rm": "rm", "kto": "kto"}


class Recorder(logging.Handler):
    """Keeps the warnings LLaMA-Factory's data code logs (abnormal and dropped examples)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def tiny_tokenizer():
    """A whitespace word-level tokenizer: enough for the processors' row checks, no download."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<pad>": 1, "</s>": 2}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="</s>"
    )


def stage_of(attr) -> str:
    return "dpo" if attr.ranking else "kto" if attr.kto_tag else "sft"


def summarize(
    name: str, stage: str, attr, aligned, processed, converted: list[str], dropped: list[str]
) -> dict:
    rows = aligned.to_list()
    counts = Counter(len(r["_response"]) for r in rows)
    first = rows[0] if rows else {}
    summary = {
        "dataset": name,
        "stage": stage,
        "data_stage": DATA_STAGE[stage],
        "file_name": attr.dataset_name,
        "formatting": attr.formatting,
        "ranking": attr.ranking,
        "kto_tag": attr.kto_tag,
        "rows": len(rows),
        "abnormal": sum(1 for r in rows if not r["_prompt"] or not r["_response"]),
        "abnormal_logged": sum("Skipping this abnormal example" in m for m in converted),
        "responses": {str(k): v for k, v in sorted(counts.items())},
        "processed": len(processed),
        "dropped_by_processor": sum(m.startswith("Dropped invalid example") for m in dropped),
        "warnings": (converted + dropped)[:5],
        "first": {k: first.get(k) for k in ("_prompt", "_response", "_system")},
    }
    if stage == "kto":
        # FeedbackDatasetProcessor: desirable when the first response is non-empty.
        summary["kto_tags"] = list(processed["kto_tags"])
        summary["empty_response_at"] = dict(
            Counter(
                str(next((i for i, x in enumerate(r["_response"]) if x["content"] == ""), None))
                for r in rows
            )
        )
    return summary


def main(argv: list[str]) -> None:
    dump = None
    if "--dump" in argv:
        at = argv.index("--dump")
        dump = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    dataset_dir, pairs = argv[0], argv[1:]
    info = json.loads((Path(dataset_dir) / "dataset_info.json").read_text(encoding="utf-8"))
    names = list(info)
    stages = dict(p.split("=", 1) for p in pairs)

    recorder = Recorder()
    lf_logging.add_handler(recorder)
    work = tempfile.mkdtemp(prefix="lf-load-")
    model_args = ModelArguments(model_name_or_path="none", cache_dir=os.path.join(work, "cache"))
    training_args = TrainingArguments(output_dir=os.path.join(work, "out"), report_to="none")
    tokenizer = tiny_tokenizer()

    summaries = []
    for name, attr in zip(names, get_dataset_list(names, dataset_dir), strict=True):
        stage = stages.get(name) or stage_of(attr)
        data_args = DataArguments(
            dataset_dir=dataset_dir, dataset=[name], template="default", overwrite_cache=True
        )
        template = get_template_and_fix_tokenizer(tokenizer, data_args)
        recorder.messages = []
        try:
            aligned = _get_merged_dataset(
                [name], model_args, data_args, training_args, DATA_STAGE[stage], return_dict=True
            )[name]
            converted, recorder.messages = recorder.messages, []
            processed = _get_preprocessed_dataset(
                aligned, data_args, training_args, DATA_STAGE[stage], template, tokenizer
            )
        except Exception as err:  # one broken entry must not hide the others
            summaries.append(
                {"dataset": name, "stage": stage, "error": f"{type(err).__name__}: {err}"}
            )
            continue
        summaries.append(
            summarize(name, stage, attr, aligned, processed, converted, recorder.messages)
        )
        if dump is not None:
            dump.mkdir(parents=True, exist_ok=True)
            with open(dump / f"{name}.jsonl", "w", encoding="utf-8") as fh:
                for row in aligned.to_list():
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()
    print(json.dumps({"llamafactory": VERSION, "datasets": summaries}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
