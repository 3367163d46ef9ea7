"""In-process grading hands each submission Keras's settings as they were:
what one submission sets (float64, channels-first) does not reach the next."""

import keras
import pytest

from grader.device import keras_settings_kept


def test_settings_set_inside_are_undone_even_by_an_exception():
    before = (keras.config.floatx(), keras.config.dtype_policy().name, keras.config.epsilon(),
              keras.config.image_data_format())
    with pytest.raises(RuntimeError), keras_settings_kept():
        keras.config.set_floatx("float64")
        keras.config.set_dtype_policy("float64")
        keras.config.set_epsilon(1e-3)
        keras.config.set_image_data_format("channels_first")
        assert keras.layers.Dense(2).dtype == "float64"
        raise RuntimeError("a submission that fails after changing the settings")
    after = (keras.config.floatx(), keras.config.dtype_policy().name, keras.config.epsilon(),
             keras.config.image_data_format())
    assert after == before
    assert keras.layers.Dense(2).dtype == before[1]
