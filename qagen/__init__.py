"""qagen: answers question papers.

This package is imported by the API process, so it must stay light: heavy libraries
(litellm, pdfplumber, reportlab, seaborn) are imported only inside the pipeline modules
that use them.
"""

import os

# litellm fetches its model price map from the network at import unless this is set
# first. Every process that can import litellm imports qagen before it, so setting it
# here (unless the operator chose otherwise) guarantees imports never reach for the network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

__version__ = "0.1.0"
