"""Model access through litellm. Importing this package imports litellm: worker side only."""
