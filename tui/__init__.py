"""deploytop's terminal dashboard: the app, its screens and widgets (Textual)."""
