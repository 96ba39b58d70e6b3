"""The retrieval engine: plain Python, PyTorch and FAISS.

It knows nothing of Django, HTTP or websockets (a test enforces this); devices and
paths come in as arguments. The web layer in ``retrieval`` calls it through services.
"""
