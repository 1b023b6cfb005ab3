"""Learners: things that fit, with the scikit-learn contract (fit -> self, state ends in _)."""
