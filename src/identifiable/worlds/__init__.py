"""Ground-truth worlds: latent spaces, mixing functions and the worlds built from them."""
