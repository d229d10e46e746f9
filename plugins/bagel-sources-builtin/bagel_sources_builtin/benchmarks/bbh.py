"""BIG-Bench Hard: the input of each of the 6,511 items of its 27 tasks."""

from __future__ import annotations

from bagel_core import LoadContext

from .base import FoldersBenchmark, text

#: The 27 tasks: the configs (folders) of lukaemon/bbh, the files of the BBH repository's bbh/.
TASKS = (
    "boolean_expressions",
    "causal_judgement",
    "date_understanding",
    "disambiguation_qa",
    "dyck_languages",
    "formal_fallacies",
    "geometric_shapes",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "logical_deduction_three_objects",
    "movie_recommendation",
    "multistep_arithmetic_two",
    "navigate",
    "object_counting",
    "penguins_in_a_table",
    "reasoning_about_colored_objects",
    "ruin_names",
    "salient_translation_error_detection",
    "snarks",
    "sports_understanding",
    "temporal_sequences",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
    "web_of_lies",
    "word_sorting",
)


class BigBenchHard(FoldersBenchmark):
    name = "bbh"
    description = "BIG-Bench Hard, 27 tasks (<task>/test): input (question, with its options where the task has them)"
    dataset_ids = ("lukaemon/bbh",)
    groups = ("current",)
    configs = TASKS
    splits = ("test",)

    def texts_of_config_row(self, config, index, row, ctx: LoadContext):
        return text(self.name, f"{config}/{index}", row["input"], ctx, "question")
