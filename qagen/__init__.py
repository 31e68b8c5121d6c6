"""qagen: answers question papers.

This package is imported by the API process, so it must stay light: heavy libraries
(litellm, pdfplumber, reportlab, seaborn) are imported only inside the pipeline modules
that use them.
"""

__version__ = "0.1.0"
