"""`python -m qagen.webhooks`: the webhook dispatcher (qagen.webhooks.dispatcher)."""

from qagen.webhooks.dispatcher import main

if __name__ == "__main__":
    main()
