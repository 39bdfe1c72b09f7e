import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from ktrdr.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FeatureKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEATURE_KIND_UNSPECIFIED: _ClassVar[FeatureKind]
    FEATURE_KIND_MEMBERSHIP: _ClassVar[FeatureKind]
    FEATURE_KIND_RAW: _ClassVar[FeatureKind]

class Normalization(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NORMALIZATION_UNSPECIFIED: _ClassVar[Normalization]
    NORMALIZATION_NONE: _ClassVar[Normalization]
    NORMALIZATION_ZSCORE: _ClassVar[Normalization]
    NORMALIZATION_MINMAX: _ClassVar[Normalization]

class InferenceMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INFERENCE_METHOD_UNSPECIFIED: _ClassVar[InferenceMethod]
    INFERENCE_METHOD_MAMDANI: _ClassVar[InferenceMethod]
    INFERENCE_METHOD_SUGENO: _ClassVar[InferenceMethod]

class AndMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AND_METHOD_UNSPECIFIED: _ClassVar[AndMethod]
    AND_METHOD_MIN: _ClassVar[AndMethod]
    AND_METHOD_PRODUCT: _ClassVar[AndMethod]

class OrMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OR_METHOD_UNSPECIFIED: _ClassVar[OrMethod]
    OR_METHOD_MAX: _ClassVar[OrMethod]
    OR_METHOD_PROBABILISTIC_SUM: _ClassVar[OrMethod]

class Defuzzification(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEFUZZIFICATION_UNSPECIFIED: _ClassVar[Defuzzification]
    DEFUZZIFICATION_CENTROID: _ClassVar[Defuzzification]
    DEFUZZIFICATION_BISECTOR: _ClassVar[Defuzzification]
    DEFUZZIFICATION_MEAN_OF_MAXIMUM: _ClassVar[Defuzzification]
    DEFUZZIFICATION_SMALLEST_OF_MAXIMUM: _ClassVar[Defuzzification]
    DEFUZZIFICATION_LARGEST_OF_MAXIMUM: _ClassVar[Defuzzification]
FEATURE_KIND_UNSPECIFIED: FeatureKind
FEATURE_KIND_MEMBERSHIP: FeatureKind
FEATURE_KIND_RAW: FeatureKind
NORMALIZATION_UNSPECIFIED: Normalization
NORMALIZATION_NONE: Normalization
NORMALIZATION_ZSCORE: Normalization
NORMALIZATION_MINMAX: Normalization
INFERENCE_METHOD_UNSPECIFIED: InferenceMethod
INFERENCE_METHOD_MAMDANI: InferenceMethod
INFERENCE_METHOD_SUGENO: InferenceMethod
AND_METHOD_UNSPECIFIED: AndMethod
AND_METHOD_MIN: AndMethod
AND_METHOD_PRODUCT: AndMethod
OR_METHOD_UNSPECIFIED: OrMethod
OR_METHOD_MAX: OrMethod
OR_METHOD_PROBABILISTIC_SUM: OrMethod
DEFUZZIFICATION_UNSPECIFIED: Defuzzification
DEFUZZIFICATION_CENTROID: Defuzzification
DEFUZZIFICATION_BISECTOR: Defuzzification
DEFUZZIFICATION_MEAN_OF_MAXIMUM: Defuzzification
DEFUZZIFICATION_SMALLEST_OF_MAXIMUM: Defuzzification
DEFUZZIFICATION_LARGEST_OF_MAXIMUM: Defuzzification

class MembershipFunction(_message.Message):
    __slots__ = ("name", "type", "parameters", "shoulder")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SHOULDER_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    parameters: _containers.RepeatedScalarFieldContainer[float]
    shoulder: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., parameters: _Optional[_Iterable[float]] = ..., shoulder: _Optional[str] = ...) -> None: ...

class FuzzySet(_message.Message):
    __slots__ = ("id", "indicator", "memberships", "strategy")
    ID_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    id: str
    indicator: str
    memberships: _containers.RepeatedCompositeFieldContainer[MembershipFunction]
    strategy: str
    def __init__(self, id: _Optional[str] = ..., indicator: _Optional[str] = ..., memberships: _Optional[_Iterable[_Union[MembershipFunction, _Mapping]]] = ..., strategy: _Optional[str] = ...) -> None: ...

class ListFuzzySetsRequest(_message.Message):
    __slots__ = ("strategy", "symbol")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    symbol: str
    def __init__(self, strategy: _Optional[str] = ..., symbol: _Optional[str] = ...) -> None: ...

class ListFuzzySetsResponse(_message.Message):
    __slots__ = ("fuzzy_sets",)
    FUZZY_SETS_FIELD_NUMBER: _ClassVar[int]
    fuzzy_sets: _containers.RepeatedCompositeFieldContainer[FuzzySet]
    def __init__(self, fuzzy_sets: _Optional[_Iterable[_Union[FuzzySet, _Mapping]]] = ...) -> None: ...

class GetFuzzySetsRequest(_message.Message):
    __slots__ = ("symbol", "strategy")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    strategy: str
    def __init__(self, symbol: _Optional[str] = ..., strategy: _Optional[str] = ...) -> None: ...

class GetFuzzySetsResponse(_message.Message):
    __slots__ = ("symbol", "fuzzy_sets", "strategies")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    FUZZY_SETS_FIELD_NUMBER: _ClassVar[int]
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    fuzzy_sets: _containers.RepeatedCompositeFieldContainer[FuzzySet]
    strategies: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, symbol: _Optional[str] = ..., fuzzy_sets: _Optional[_Iterable[_Union[FuzzySet, _Mapping]]] = ..., strategies: _Optional[_Iterable[str]] = ...) -> None: ...

class EvaluateMembershipRequest(_message.Message):
    __slots__ = ("memberships", "strategy", "fuzzy_set", "values")
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    FUZZY_SET_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    memberships: _containers.RepeatedCompositeFieldContainer[MembershipFunction]
    strategy: str
    fuzzy_set: str
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, memberships: _Optional[_Iterable[_Union[MembershipFunction, _Mapping]]] = ..., strategy: _Optional[str] = ..., fuzzy_set: _Optional[str] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class MembershipDegrees(_message.Message):
    __slots__ = ("name", "degrees")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEGREES_FIELD_NUMBER: _ClassVar[int]
    name: str
    degrees: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, name: _Optional[str] = ..., degrees: _Optional[_Iterable[float]] = ...) -> None: ...

class EvaluateMembershipResponse(_message.Message):
    __slots__ = ("memberships",)
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    memberships: _containers.RepeatedCompositeFieldContainer[MembershipDegrees]
    def __init__(self, memberships: _Optional[_Iterable[_Union[MembershipDegrees, _Mapping]]] = ...) -> None: ...

class CalculateFuzzyRequest(_message.Message):
    __slots__ = ("symbol", "timeframe", "fuzzy_sets", "strategy", "start_date", "end_date")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    FUZZY_SETS_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    timeframe: str
    fuzzy_sets: _containers.RepeatedScalarFieldContainer[str]
    strategy: str
    start_date: str
    end_date: str
    def __init__(self, symbol: _Optional[str] = ..., timeframe: _Optional[str] = ..., fuzzy_sets: _Optional[_Iterable[str]] = ..., strategy: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ...) -> None: ...

class CalculateFuzzyResponse(_message.Message):
    __slots__ = ("timestamps", "columns", "features")
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    timestamps: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    columns: _containers.RepeatedCompositeFieldContainer[_common_pb2.ValueColumn]
    features: _containers.RepeatedCompositeFieldContainer[Feature]
    def __init__(self, timestamps: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ..., columns: _Optional[_Iterable[_Union[_common_pb2.ValueColumn, _Mapping]]] = ..., features: _Optional[_Iterable[_Union[Feature, _Mapping]]] = ...) -> None: ...

class Feature(_message.Message):
    __slots__ = ("name", "timeframe", "kind", "indicator", "fuzzy_set", "membership", "normalization")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    FUZZY_SET_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    NORMALIZATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    timeframe: str
    kind: FeatureKind
    indicator: str
    fuzzy_set: str
    membership: str
    normalization: Normalization
    def __init__(self, name: _Optional[str] = ..., timeframe: _Optional[str] = ..., kind: _Optional[_Union[FeatureKind, str]] = ..., indicator: _Optional[str] = ..., fuzzy_set: _Optional[str] = ..., membership: _Optional[str] = ..., normalization: _Optional[_Union[Normalization, str]] = ...) -> None: ...

class LinguisticVariable(_message.Message):
    __slots__ = ("name", "minimum", "maximum", "resolution", "terms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    name: str
    minimum: float
    maximum: float
    resolution: int
    terms: _containers.RepeatedCompositeFieldContainer[MembershipFunction]
    def __init__(self, name: _Optional[str] = ..., minimum: _Optional[float] = ..., maximum: _Optional[float] = ..., resolution: _Optional[int] = ..., terms: _Optional[_Iterable[_Union[MembershipFunction, _Mapping]]] = ...) -> None: ...

class RuleSystem(_message.Message):
    __slots__ = ("inputs", "output", "rules", "method", "and_method", "or_method", "defuzzification")
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    AND_METHOD_FIELD_NUMBER: _ClassVar[int]
    OR_METHOD_FIELD_NUMBER: _ClassVar[int]
    DEFUZZIFICATION_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[LinguisticVariable]
    output: LinguisticVariable
    rules: _containers.RepeatedScalarFieldContainer[str]
    method: InferenceMethod
    and_method: AndMethod
    or_method: OrMethod
    defuzzification: Defuzzification
    def __init__(self, inputs: _Optional[_Iterable[_Union[LinguisticVariable, _Mapping]]] = ..., output: _Optional[_Union[LinguisticVariable, _Mapping]] = ..., rules: _Optional[_Iterable[str]] = ..., method: _Optional[_Union[InferenceMethod, str]] = ..., and_method: _Optional[_Union[AndMethod, str]] = ..., or_method: _Optional[_Union[OrMethod, str]] = ..., defuzzification: _Optional[_Union[Defuzzification, str]] = ...) -> None: ...

class InferRequest(_message.Message):
    __slots__ = ("system", "inputs")
    class InputsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    system: RuleSystem
    inputs: _containers.ScalarMap[str, float]
    def __init__(self, system: _Optional[_Union[RuleSystem, _Mapping]] = ..., inputs: _Optional[_Mapping[str, float]] = ...) -> None: ...

class RuleActivation(_message.Message):
    __slots__ = ("rule", "strength")
    RULE_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    rule: str
    strength: float
    def __init__(self, rule: _Optional[str] = ..., strength: _Optional[float] = ...) -> None: ...

class InferResponse(_message.Message):
    __slots__ = ("output", "activations")
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    ACTIVATIONS_FIELD_NUMBER: _ClassVar[int]
    output: float
    activations: _containers.RepeatedCompositeFieldContainer[RuleActivation]
    def __init__(self, output: _Optional[float] = ..., activations: _Optional[_Iterable[_Union[RuleActivation, _Mapping]]] = ...) -> None: ...

class StreamFuzzyConfig(_message.Message):
    __slots__ = ("fuzzy_sets", "strategy", "timeframe", "features")
    FUZZY_SETS_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    fuzzy_sets: _containers.RepeatedCompositeFieldContainer[FuzzySet]
    strategy: str
    timeframe: str
    features: bool
    def __init__(self, fuzzy_sets: _Optional[_Iterable[_Union[FuzzySet, _Mapping]]] = ..., strategy: _Optional[str] = ..., timeframe: _Optional[str] = ..., features: _Optional[bool] = ...) -> None: ...

class StreamFuzzyRequest(_message.Message):
    __slots__ = ("config", "values")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    config: StreamFuzzyConfig
    values: IndicatorValues
    def __init__(self, config: _Optional[_Union[StreamFuzzyConfig, _Mapping]] = ..., values: _Optional[_Union[IndicatorValues, _Mapping]] = ...) -> None: ...

class IndicatorValues(_message.Message):
    __slots__ = ("timestamps_us", "columns")
    TIMESTAMPS_US_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    timestamps_us: _containers.RepeatedScalarFieldContainer[int]
    columns: _containers.RepeatedCompositeFieldContainer[_common_pb2.ValueColumn]
    def __init__(self, timestamps_us: _Optional[_Iterable[int]] = ..., columns: _Optional[_Iterable[_Union[_common_pb2.ValueColumn, _Mapping]]] = ...) -> None: ...

class StreamFuzzyResponse(_message.Message):
    __slots__ = ("timestamps_us", "columns")
    TIMESTAMPS_US_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    timestamps_us: _containers.RepeatedScalarFieldContainer[int]
    columns: _containers.RepeatedCompositeFieldContainer[_common_pb2.ValueColumn]
    def __init__(self, timestamps_us: _Optional[_Iterable[int]] = ..., columns: _Optional[_Iterable[_Union[_common_pb2.ValueColumn, _Mapping]]] = ...) -> None: ...
