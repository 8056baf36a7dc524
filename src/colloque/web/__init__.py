"""The web app's server side: pages rendered with Jinja2, the built assets of ``web/``, and the
headers that keep the pages' JavaScript to our own, verifiable files."""
