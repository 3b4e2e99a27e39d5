"""docs/keyvault.md's script: reads the workspace key vault's secrets through its run, never printing them."""

from azureml.core import Run

run = Run.get_context()
password = run.get_secret("db-password")
creds = run.get_secrets(["db-user", "api-key", "not-set"])   # {'db-user': ..., 'api-key': ..., 'not-set': None}
print("read", sum(v is not None for v in creds.values()), "of", len(creds), "secrets;",
      "the password has", len(password), "characters")
