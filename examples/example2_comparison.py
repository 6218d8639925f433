#!/usr/bin/env python3
"""
Example of the comparison framework I implemented
"""

from main_myopic_final import compare_myopic_vs_traditional
from myopic_analysis_utils import MyopicAnalyzer

def comparison_example():
    # My comparison framework setup
    strategy_params = {
        'S': 500,
        'T': 10,
        'f': 0.003,
        'r': [0.003],
        'lambda_u': 0.05,
        'lambda_o': 0.05,
        'N': 1000
    }
    
    # Run comparison using my framework
    comparison = compare_myopic_vs_traditional(
        stock="AAPL",
        day="2025-04-02",
        strategy_params=strategy_params,
        data_path="./data/",
        order_freq=120,
        start_time=("09", "30"),
        end_time=("16", "00"),
        lookup_duration=(0, 15),
        market_data_path="./data/"
    )
    
    # Analysis using my utility functions
    analyzer = MyopicAnalyzer()
    
    # Generate report using my framework
    comparison_data = {f"AAPL_2025-04-02": comparison}
    report = analyzer.generate_performance_report(comparison_data)
    
    print("=== My Comparison Framework Results ===")
    print(report)
    
    # Create visualization using my tools
    if comparison['myopic']['results']:
        analyzer.create_schedule_visualization(
            comparison['myopic'], 
            save_path="myopic_schedule_analysis.png"
        )
    
    return comparison

if __name__ == "__main__":
    comparison_example()
