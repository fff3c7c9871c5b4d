from runner.cli import entrypoint

entrypoint()
