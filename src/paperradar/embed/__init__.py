"""Paper vectors: the sentence-transformers encoder, its int8 ONNX copy, the embed stage."""
