#!/usr/bin/env python3
"""
Example of parameter sensitivity analysis I implemented
"""

from myopic_sor_scheduler import MyopicScheduler, MyopicParameters
from myopic_analysis_utils import MyopicAnalyzer
import numpy as np

def parameter_sensitivity_example():
    # My parameter sensitivity framework
    base_params = MyopicParameters(
        lambda_value=25000.0,
        beta=0.693,
        volatility=0.01,
        adv=1000000.0
    )
    
    # Test different lambda values as I designed
    lambda_values = np.linspace(15000, 35000, 5)
    sensitivity_results = {}
    
    for lambda_val in lambda_values:
        # Create scheduler with different lambda
        test_params = MyopicParameters(
            lambda_value=lambda_val,
            beta=base_params.beta,
            volatility=base_params.volatility,
            adv=base_params.adv
        )
        
        # This would run my enhanced backtest
        # results = enhanced_backtest_with_myopic(..., myopic_params=test_params)
        # sensitivity_results[lambda_val] = results
    
    # Analysis framework I built
    analyzer = MyopicAnalyzer()
    # sensitivity_df = analyzer.parameter_sensitivity_analysis(sensitivity_results, lambda_values)
    
    print("=== My Parameter Sensitivity Framework ===")
    print("Framework ready to analyze lambda sensitivity")
    print(f"Testing lambda values: {lambda_values}")
    
    return sensitivity_results

if __name__ == "__main__":
    parameter_sensitivity_example()
