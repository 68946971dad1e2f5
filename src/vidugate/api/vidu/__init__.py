"""Vidu's own format: /vidu/ent/v2/..., the Vidu platform's paths, bodies and answers."""
