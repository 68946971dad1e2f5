"""The store: tables, repositories and the engine. Everything that speaks SQL lives here."""
