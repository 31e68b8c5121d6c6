"""Model access through litellm (worker side; the API never imports this package)."""
