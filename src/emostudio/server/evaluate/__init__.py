"""The evaluate feature of the server: service.py (state and steps), routes.py (REST), ui.py (Gradio tab)."""
