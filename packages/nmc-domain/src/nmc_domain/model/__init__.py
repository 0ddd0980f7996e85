"""The pure model: frozen values and the transitions between them."""
