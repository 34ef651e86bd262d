"""QtSettingsPanel: engine choice and one control per engine parameter."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QWidget,
)

from .settings import ParamControl, SettingsState, param_controls

_SLIDER_STEPS = 1000


class QtSettingsPanel(QGroupBox):
    """Rebuilds its controls when the engine changes; every edit goes to the state."""

    def __init__(self, settings: SettingsState, parent: QWidget | None = None) -> None:
        super().__init__("Settings", parent)
        self._settings = settings
        self._updating = False
        self.engine_box = QComboBox()
        self.engine_box.currentTextChanged.connect(self._choose_engine)
        self.margin_box = QSpinBox()
        self.margin_box.setRange(0, 512)
        self.margin_box.setSuffix(" px")
        self.margin_box.setToolTip("Context sent around the selection: blur crosses its edge")
        self.margin_box.valueChanged.connect(settings.set_margin)
        self.seed_box = QSpinBox()
        self.seed_box.setRange(-1, 2 ** 31 - 1)
        self.seed_box.setSpecialValueText("none")  # shown for -1
        self.seed_box.setToolTip("For engines that use one: the same seed gives the same "
                                 "result")
        self.seed_box.valueChanged.connect(settings.set_seed)
        self.controls: dict[str, QWidget] = {}
        self._controls_key: tuple[str, ...] = ()
        self._form = QFormLayout(self)
        self._form.addRow("Engine", self.engine_box)
        self._form.addRow("Margin", self.margin_box)
        self._form.addRow("Seed", self.seed_box)
        self._fixed_rows = self._form.rowCount()  # the engine's own rows come after these
        settings.changed.connect(self._refresh)
        self._refresh(None)

    def _refresh(self, _: None) -> None:
        if self._updating:
            return
        self._updating = True
        try:
            names = [e.name for e in self._settings.engines]
            if names != [self.engine_box.itemText(i) for i in range(self.engine_box.count())]:
                self.engine_box.clear()
                self.engine_box.addItems(names)
            self.engine_box.setEnabled(bool(names))
            if self._settings.engine in names:
                self.engine_box.setCurrentText(self._settings.engine)
            self.margin_box.setValue(self._settings.margin)
            seed = self._settings.seed
            self.seed_box.setValue(-1 if seed is None else seed)
            self._rebuild_controls()
        finally:
            self._updating = False

    def _rebuild_controls(self) -> None:
        engine = self._settings.engine_info()
        # Keyed by engine too: two engines may share a parameter name but not its labels.
        key = (engine.name, *(p.name for p in engine.params)) if engine else ()
        if key != self._controls_key:
            self._controls_key = key
            while self._form.rowCount() > self._fixed_rows:
                self._form.removeRow(self._fixed_rows)
            self.controls = {}
            for control in param_controls(engine) if engine else []:
                widget = self._make_control(control)
                self.controls[control.spec.name] = widget
                self._form.addRow(control.spec.name, widget)
        for name, widget in self.controls.items():
            self._show_value(widget, self._settings.values.get(name, 0.0))

    def _make_control(self, control: ParamControl) -> QWidget:
        spec = control.spec
        name = spec.name
        if spec.type == "bool":
            box = QCheckBox()
            box.toggled.connect(lambda on: self._settings.set_value(name, float(on)))
            box.setToolTip(spec.description)
            return box
        if spec.type == "int":
            spin = QSpinBox()
            spin.setRange(int(spec.snap(spec.minimum)), int(spec.snap(spec.maximum)))
            if spec.step > 0:  # the arrows go from one valid value to the next
                spin.setSingleStep(int(spec.step))
            spin.valueChanged.connect(lambda v: self._settings.set_value(name, float(v)))
            spin.setToolTip(spec.description)
            return spin
        row = QWidget()
        row.setToolTip(spec.description)
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setObjectName("slider")
        slider.setRange(0, _SLIDER_STEPS)
        span = spec.maximum - spec.minimum or 1.0
        slider.valueChanged.connect(lambda v: self._settings.set_value(
            name, spec.minimum + span * v / _SLIDER_STEPS))
        value = QLabel()
        value.setObjectName("value")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(control.low_label))
        layout.addWidget(slider, 1)
        layout.addWidget(QLabel(control.high_label))
        layout.addWidget(value)
        row.setProperty("span", (spec.minimum, span))
        return row

    def _show_value(self, widget: QWidget, value: float) -> None:
        widget.blockSignals(True)
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QSpinBox):
            widget.setValue(int(value))
        else:
            minimum, span = widget.property("span")
            slider = widget.findChild(QSlider, "slider")
            slider.blockSignals(True)
            slider.setValue(round((value - minimum) / span * _SLIDER_STEPS))
            slider.blockSignals(False)
            widget.findChild(QLabel, "value").setText(f"{value:.2f}")
        widget.blockSignals(False)

    def _choose_engine(self, name: str) -> None:
        if not self._updating and name:
            self._settings.set_engine(name)
