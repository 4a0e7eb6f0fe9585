"""The sample page's Python; the page loads main.py and sample_page as top-level modules."""
