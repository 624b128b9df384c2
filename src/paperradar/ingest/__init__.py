"""Getting papers in: parsing arXiv listings, the fetch and seeds stages, the arXiv API."""
