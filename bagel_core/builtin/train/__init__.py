"""Built-in trainers (`sft`, `dpo`, `prefs` for ORPO/KTO) on trl, their shared base (`common`), the data
they read (`data`), config files (`config`, `deepspeed_configs`) and the export of a trained model (`export`).
Authors of trainer plugins import the public names from `bagel_core.train`, not from here."""
