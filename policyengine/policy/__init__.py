"""The policy language: YAML -> schema check -> compiled predicates."""
