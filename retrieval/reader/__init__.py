"""The learned reader: candidate features, the trained models, and the answerer that uses them."""
