"""Forms shared by several blueprints (a blueprint never imports another: what two share lives here)."""
