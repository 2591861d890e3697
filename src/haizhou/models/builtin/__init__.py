"""Built-in models (内置模型): one module per model, found by scanning this package.

Each module defines ``MODEL = ModelSpec(...)`` and ``run(ctx, params) -> Iterator[Finding]``;
see README.md in this folder. Nothing here lists them: the registry imports every module.
"""
