"""HTTP routes, thin: parse, call one service, render. Never touches store/ or providers/."""
