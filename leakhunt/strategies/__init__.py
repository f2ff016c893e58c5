"""Built-in inference strategies: the TF1/TF2 code patterns leakhunt soaks and compares.

Importing this package (and registry, matrix, options) never imports TensorFlow; factory.build does,
in the child process.

May import: models, workloads, rundir (StrategySpec), errors.
"""
